import { useEffect, useState } from 'react';
import { api, ApiError, dcPath } from '../api';
import { Field } from '../components/Field';
import { LiveTimeline } from '../components/LiveTimeline';
import { RoutesPanel } from '../routes/RoutesPanel';
import { followLogs, type RuntimeLine } from '../live';
import { go, href } from '../router';
import { usePoll } from '../use-poll';

interface ComponentView {
  id: string;
  name: string;
  version: number;
  replicas: number;
  source: unknown;
  ports: { port: number; protocol: string; public: boolean }[];
  env: { name: string; secret: boolean; value: string | null }[];
  routes: { host: string; path_prefix: string; port: number; https_redirect: boolean; tls: { certificate_pem: string } | null }[];
  active_operation: string | null;
  current_version: string | null;
  previous_version: string | null;
  [k: string]: unknown;
}

interface OperationItem {
  event_id: string;
  kind: string;
  target: string;
  status: string;
  message: string | null;
  failed_step: string | null;
  created_at_ms: number;
}

const MAX_RUNTIME_LINES = 2000;

/** One component in one data center: state, actions, env, routes, its operations and its runtime log tail. */
export function ComponentPage({ dc, tenant, id }: { dc: string; tenant: string; id: string }) {
  const base = `/tenants/${encodeURIComponent(tenant)}/components/${encodeURIComponent(id)}`;
  const c = usePoll(() => api<ComponentView>('GET', dcPath(dc, base)), 3000, [dc, base]);
  const ops = usePoll(() => api<{ items: OperationItem[] }>('GET', dcPath(dc, `/tenants/${encodeURIComponent(tenant)}/operations?limit=200`)), 3000, [
    dc,
    tenant,
  ]);
  const [actionError, setActionError] = useState<string | null>(null);
  const [replicas, setReplicas] = useState('');
  const [env, setEnv] = useState({ name: '', value: '', secret: false });
  const [envError, setEnvError] = useState<string | null>(null);
  const [runtime, setRuntime] = useState<RuntimeLine[]>([]);
  const [replica, setReplica] = useState('');
  const [logError, setLogError] = useState<string | null>(null);

  useEffect(
    () =>
      followLogs(
        dc,
        id,
        200,
        (lines) => setRuntime((prev) => [...prev, ...lines].slice(-MAX_RUNTIME_LINES)),
        (m) => setLogError(m),
      ),
    [dc, id],
  );

  const act = async (body: Record<string, unknown>) => {
    setActionError(null);
    try {
      const res = await api<{ event_id: string }>('POST', dcPath(dc, `${base}/operations`), body);
      go('op', dc, tenant, res.event_id);
    } catch (err) {
      setActionError(err instanceof ApiError ? `${err.error.field ? `${err.error.field}: ` : ''}${err.error.message}` : String(err));
    }
  };

  const changeEnv = async (next: { name: string; value: string; secret: boolean }[]) => {
    const v = c.data;
    if (!v) return;
    setEnvError(null);
    const keptSecret = next.find((e) => e.secret && e.value === '');
    if (keptSecret) return setEnvError(`${keptSecret.name} is a secret: set its value again (the API never returns it)`);
    // The data center never returns a TLS route's private key: a spec change would have to send it again.
    const tlsRoute = v.routes.find((r) => r.tls);
    if (tlsRoute)
      return setEnvError(
        `route ${tlsRoute.host}${tlsRoute.path_prefix} has a TLS certificate: a spec change must send its private key again and the data center never returns it, so this form cannot change the env of this component yet`,
      );
    const spec = {
      source: v.source,
      ports: v.ports,
      env: next,
      cpu_millis: v.cpu_millis,
      memory_mib: v.memory_mib,
      replicas: v.replicas,
      ...(v.probe ? { probe: v.probe } : {}),
      volumes: v.volumes,
      depends_on: v.depends_on,
      routes: v.routes.map((r) => ({ host: r.host, path_prefix: r.path_prefix, port: r.port, https_redirect: r.https_redirect })),
      tcp_ports: v.tcp_ports,
    };
    try {
      await api('PUT', dcPath(dc, base), spec);
      setEnv({ name: '', value: '', secret: false });
      c.reload();
      // A spec change takes effect at the next rollout: a running component is restarted (rolling) into it.
      if (v.current_version) await act({ kind: 'restart' });
    } catch (err) {
      setEnvError(err instanceof ApiError ? `${err.error.field ? `${err.error.field}: ` : ''}${err.error.message}` : String(err));
    }
  };

  const v = c.data;
  const mine = (ops.data?.items ?? []).filter((o) => o.target === `component/${id}`);
  const replicasSeen = [...new Set(runtime.map((l) => l.replica))];
  return (
    <section>
      <h2>
        {id} <span className="muted">in {dc}</span>
      </h2>
      {c.error && <p className="error">{c.error}</p>}
      {v && (
        <>
          <p>
            {v.replicas} replicas · version {v.current_version ?? 'none yet'}{' '}
            {v.previous_version && <span className="muted">(previous {v.previous_version})</span>}
            {v.active_operation && (
              <>
                {' '}
                · <a href={href('op', dc, tenant, v.active_operation)}>operation running</a>
              </>
            )}
          </p>
          <div className="actions">
            <button onClick={() => void act({ kind: 'build', deploy_after: true })}>Deploy</button>
            <button onClick={() => void act({ kind: 'build', deploy_after: false })}>Build</button>
            <button onClick={() => void act({ kind: 'upgrade' })}>Upgrade</button>
            <button onClick={() => void act({ kind: 'rollback' })}>Rollback</button>
            <button onClick={() => void act({ kind: 'restart' })}>Restart</button>
            <button onClick={() => void act({ kind: 'stop' })}>Stop</button>
            <button onClick={() => void act({ kind: 'start' })}>Start</button>
            <button className="danger" onClick={() => window.confirm(`Delete ${id}?`) && void act({ kind: 'delete' })}>
              Delete
            </button>
            <form
              className="inline"
              onSubmit={(e) => {
                e.preventDefault();
                if (!/^\d{1,3}$/.test(replicas)) return setActionError('replicas: must be a whole number 0-100');
                void act({ kind: 'scale', replicas: Number(replicas) });
              }}
            >
              <input
                name="replicas"
                aria-label="replicas"
                placeholder={String(v.replicas)}
                value={replicas}
                onChange={(e) => setReplicas(e.target.value)}
                size={4}
              />
              <button type="submit">Scale</button>
            </form>
          </div>
          {actionError && (
            <p className="error" role="alert">
              {actionError}
            </p>
          )}
          <h3>Environment</h3>
          <table className="list">
            <tbody>
              {v.env.map((e) => (
                <tr key={e.name}>
                  <td>{e.name}</td>
                  <td>{e.secret ? <em className="muted">secret</em> : e.value}</td>
                  <td>
                    <button
                      onClick={() =>
                        void changeEnv(v.env.filter((x) => x.name !== e.name).map((x) => ({ name: x.name, value: x.value ?? '', secret: x.secret })))
                      }
                    >
                      Unset
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <form
            className="inline"
            onSubmit={(e) => {
              e.preventDefault();
              void changeEnv([...v.env.filter((x) => x.name !== env.name).map((x) => ({ name: x.name, value: x.value ?? '', secret: x.secret })), env]);
            }}
          >
            <Field label="Name" name="env-name" error={envError ?? undefined}>
              <input name="env-name" value={env.name} onChange={(e) => setEnv({ ...env, name: e.target.value })} />
            </Field>
            <input name="env-value" aria-label="value" value={env.value} onChange={(e) => setEnv({ ...env, value: e.target.value })} />
            <label>
              <input type="checkbox" checked={env.secret} onChange={(e) => setEnv({ ...env, secret: e.target.checked })} /> secret
            </label>
            <button type="submit">Set</button>
          </form>
          <h3>Routes</h3>
          <RoutesPanel dc={dc} tenant={tenant} component={id} />
        </>
      )}
      <h3>Event history</h3>
      <table className="list" data-testid="events">
        <tbody>
          {mine.map((o) => (
            <tr key={o.event_id} data-status={o.status}>
              <td>
                <a href={href('op', dc, tenant, o.event_id)}>{o.kind}</a>
              </td>
              <td>{o.status}</td>
              <td className="muted">{new Date(o.created_at_ms).toLocaleString()}</td>
              <td className="error">{o.failed_step ? `${o.failed_step}: ${o.message}` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Runtime log</h3>
      {logError && <p className="muted">{logError}</p>}
      <label>
        Replica{' '}
        <select value={replica} onChange={(e) => setReplica(e.target.value)}>
          <option value="">all</option>
          {replicasSeen.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </label>
      <pre className="runtime" data-testid="runtime-log">
        {runtime
          .filter((l) => !replica || l.replica === replica)
          .map((l) => `${l.replica} | ${l.text}`)
          .join('\n')}
      </pre>
    </section>
  );
}

/** One operation: its live timeline and its whole log. */
export function OperationPage({ dc, tenant, eventId }: { dc: string; tenant: string; eventId: string }) {
  return (
    <section>
      <h2>
        Operation {eventId} <span className="muted">in {dc}</span>
      </h2>
      <LiveTimeline dc={dc} tenant={tenant} eventId={eventId} />
    </section>
  );
}
