import { useState } from 'react';
import { api, ApiError, dcPath, type Federated } from '../api';
import { DcStatusBar } from '../components/DcStatus';
import { Field } from '../components/Field';
import { adminActions, bytes, formatLabels, healthOf, parseLabels, percent, type NodeItem } from '../nodes/node-view';
import { href } from '../router';
import { usePoll } from '../use-poll';

const messageOf = (err: unknown) => (err instanceof ApiError ? `${err.error.field ? `${err.error.field}: ` : ''}${err.error.message}` : String(err));

/** One lifecycle move, guarded by the version the page read (a move made meanwhile is a conflict, said as such). */
async function move(dc: string, n: NodeItem, action: string, reason: string): Promise<NodeItem> {
  return api<NodeItem>(
    'POST',
    dcPath(dc, `/nodes/${encodeURIComponent(n.id)}/state`),
    { action, ...(reason ? { reason } : {}) },
    { 'if-match': `"${n.version}"` },
  );
}

const confirmText = (action: string, id: string) =>
  action === 'offline'
    ? `Take ${id} offline for good? Nothing moves a node back from OFFLINE.`
    : action === 'repair'
      ? `Repair ${id}? It starts again from NEW.`
      : null;

/** Buttons for the moves the node's state allows; offline and repair ask first. */
function NodeActions({ dc, node, onDone }: { dc: string; node: NodeItem; onDone: (n: NodeItem) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: string) => {
    const question = confirmText(action, node.id);
    if (question && !window.confirm(question)) return;
    setBusy(true);
    setError(null);
    try {
      onDone(await move(dc, node, action, ''));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="actions">
      {adminActions(node).map((a) => (
        <button key={a} type="button" disabled={busy} className={a === 'offline' ? 'danger' : ''} data-action={a} onClick={() => void run(a)}>
          {a}
        </button>
      ))}
      {error && (
        <small className="error" role="alert" data-error-for="action">
          {error}
        </small>
      )}
    </span>
  );
}

/** Nodes of every data center with state, health and use; an administrator cordons one from here. */
export function Nodes() {
  const { data, error, reload } = usePoll(() => api<Federated<NodeItem>>('GET', '/api/v1/nodes'), 3000, []);
  return (
    <section>
      <h2>Nodes</h2>
      {error && <p className="error">{error}</p>}
      {data && <DcStatusBar outcomes={data.data_centers.map((d) => (d.status === 'unsupported' ? { ...d, message: 'no node API' } : d))} />}
      <table className="list" data-testid="nodes">
        <thead>
          <tr>
            <th>Data center</th>
            <th>Node</th>
            <th>Address</th>
            <th>State</th>
            <th>Health</th>
            <th>CPU</th>
            <th>Memory</th>
            <th>Disk</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data?.items.map((n) => {
            const h = healthOf(n);
            return (
              <tr key={`${n.dc}/${n.id}`} data-node={`${n.dc_name}/${n.id}`} data-state={n.state}>
                <td>{n.dc_name}</td>
                <td>
                  <a href={href('node', n.dc, n.id)}>{n.id}</a>
                </td>
                <td>{n.address}</td>
                <td className="state">
                  {n.state}
                  {n.cordoned && <span className="muted"> (cordoned)</span>}
                </td>
                <td className={h.ok ? '' : 'error'} data-health={h.ok ? 'ok' : 'failing'}>
                  {h.text}
                </td>
                <td>{percent(n.usage?.cpu_millis, n.capacity?.cpu_millis)}</td>
                <td>{percent(n.usage?.memory_bytes, n.capacity?.memory_bytes)}</td>
                <td>{percent(n.usage?.disk_bytes, n.capacity?.disk_bytes)}</td>
                <td>
                  <NodeActions dc={n.dc} node={n} onDone={reload} />
                </td>
              </tr>
            );
          })}
          {data && data.items.length === 0 && (
            <tr>
              <td colSpan={9} className="muted">
                No node reported (yet).
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

/** One node: state and its moves (with a reason), conditions, capacity and use, labels, history. */
export function NodePage({ dc, id }: { dc: string; id: string }) {
  const path = dcPath(dc, `/nodes/${encodeURIComponent(id)}`);
  const { data: n, error, reload } = usePoll(() => api<NodeItem>('GET', path), 3000, [path]);
  const [reason, setReason] = useState('');
  const [moveError, setMoveError] = useState<string | null>(null);
  const [labels, setLabels] = useState<string | null>(null);
  const [labelError, setLabelError] = useState<string | null>(null);
  if (!n) return <section>{error ? <p className="error">{error}</p> : <p className="muted">Loading…</p>}</section>;
  const h = healthOf(n);
  const act = async (action: string) => {
    const question = confirmText(action, n.id);
    if (question && !window.confirm(question)) return;
    setMoveError(null);
    try {
      await move(dc, n, action, reason.trim());
      setReason('');
      reload();
    } catch (err) {
      setMoveError(messageOf(err));
    }
  };
  const saveLabels = async () => {
    if (labels === null) return;
    const parsed = parseLabels(labels);
    if ('error' in parsed) return setLabelError(parsed.error);
    setLabelError(null);
    try {
      await api('PUT', `${path}/labels`, { labels: parsed.labels }, { 'if-match': `"${n.version}"` });
      setLabels(null);
      reload();
    } catch (err) {
      setLabelError(messageOf(err));
    }
  };
  return (
    <section data-testid="node" data-state={n.state}>
      <p>
        <a href={href('nodes')}>Nodes</a> / {id}
      </p>
      <h2>
        {n.id} <span className="muted">{n.address}</span>
      </h2>
      {error && <p className="error">{error}</p>}
      <div className="card">
        <p>
          State <strong data-testid="node-state">{n.state}</strong>
          {n.cordoned && <span className="muted"> · cordoned: no new replicas</span>} · roles {n.roles.join(', ') || '-'} · heartbeat{' '}
          {n.heartbeat.alive ? `${Math.round((n.heartbeat.age_ms ?? 0) / 1000)} s ago (${n.heartbeat.runtime ?? '-'})` : 'none'}
        </p>
        <p className={h.ok ? '' : 'error'}>Health: {h.text}</p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
          }}
        >
          <Field label="Reason (kept in its history)" name="reason" error={moveError ?? undefined}>
            <input name="reason" value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
          </Field>
          {adminActions(n).map((a) => (
            <button key={a} type="button" className={a === 'offline' ? 'danger' : ''} data-action={a} onClick={() => void act(a)}>
              {a}
            </button>
          ))}
          {adminActions(n).length === 0 && <span className="muted">No move of yours from {n.state}.</span>}
        </form>
      </div>
      <h3>Conditions</h3>
      <table className="list" data-testid="conditions">
        <tbody>
          {n.conditions.map((c) => (
            <tr key={c.type} data-condition={c.type} data-ok={String(c.ok)}>
              <td>{c.ok ? '✔' : '✖'}</td>
              <td>{c.type}</td>
              <td className={c.ok ? 'muted' : 'error'}>{c.message || '-'}</td>
              <td className="muted">{c.last_change_ms ? new Date(c.last_change_ms).toLocaleString() : '-'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Capacity and use</h3>
      <table className="list">
        <tbody>
          <tr>
            <td>CPU</td>
            <td>
              {n.usage?.cpu_millis ?? '-'} of {n.capacity?.cpu_millis ?? '-'} millicores ({percent(n.usage?.cpu_millis, n.capacity?.cpu_millis)})
            </td>
          </tr>
          <tr>
            <td>Memory</td>
            <td>
              {bytes(n.usage?.memory_bytes)} of {bytes(n.capacity?.memory_bytes)}
            </td>
          </tr>
          <tr>
            <td>Disk</td>
            <td>
              {bytes(n.usage?.disk_bytes)} of {bytes(n.capacity?.disk_bytes)}
            </td>
          </tr>
        </tbody>
      </table>
      <h3>Labels</h3>
      {labels === null ? (
        <p data-testid="labels">
          {Object.entries(n.labels).map(([k, v]) => (
            <code key={k} className="label">
              {k}={v}
            </code>
          ))}
          {Object.keys(n.labels).length === 0 && <span className="muted">none</span>}{' '}
          <button type="button" onClick={() => setLabels(formatLabels(n.labels))}>
            Edit
          </button>
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void saveLabels();
          }}
        >
          <Field label="One key=value a line" name="labels" error={labelError ?? undefined}>
            <textarea name="labels" rows={4} value={labels} onChange={(e) => setLabels(e.target.value)} />
          </Field>
          <button type="submit">Save labels</button>{' '}
          <button type="button" onClick={() => (setLabels(null), setLabelError(null))}>
            Cancel
          </button>
        </form>
      )}
      <h3>History</h3>
      <table className="list" data-testid="transitions">
        <tbody>
          {[...n.transitions].reverse().map((t, i) => (
            <tr key={i}>
              <td className="muted">{new Date(t.at_ms).toLocaleString()}</td>
              <td>{t.action}</td>
              <td>
                {t.from} → {t.to}
              </td>
              <td>{t.reason}</td>
              <td className="muted">{t.actor}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
