import { api, type AppItem, type ComponentItem, type Federated } from '../api';
import { DcStatusBar } from '../components/DcStatus';
import { href } from '../router';
import { usePoll } from '../use-poll';

/** Apps of every team in every data center, with each data center's state. */
export function Apps() {
  const { data, error } = usePoll(() => api<Federated<AppItem>>('GET', '/api/v1/apps'), 5000, []);
  return (
    <section>
      <h2>Apps</h2>
      {error && <p className="error">{error}</p>}
      {data && <DcStatusBar outcomes={data.data_centers} />}
      {data && (
        <table className="list" data-testid="apps">
          <thead>
            <tr>
              <th>Data center</th>
              <th>Team</th>
              <th>App</th>
              <th>Components</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((a) => (
              <tr key={`${a.dc}/${a.id}`} data-app={`${a.dc_name}/${a.id}`}>
                <td>{a.dc_name}</td>
                <td>{a.tenant}</td>
                <td>
                  <a href={href('components', a.name)}>{a.name}</a>
                </td>
                <td>{a.components}</td>
              </tr>
            ))}
            {data.items.length === 0 && (
              <tr>
                <td colSpan={4} className="muted">
                  No apps yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Components across data centers (optionally of one app name), with their status. */
export function Components({ app }: { app?: string }) {
  const q = app ? `?app=${encodeURIComponent(app)}` : '';
  const { data, error } = usePoll(() => api<Federated<ComponentItem>>('GET', `/api/v1/components${q}`), 3000, [q]);
  return (
    <section>
      <h2>Components{app ? ` of ${app}` : ''}</h2>
      {error && <p className="error">{error}</p>}
      {data && <DcStatusBar outcomes={data.data_centers} />}
      {data && (
        <table className="list" data-testid="components">
          <thead>
            <tr>
              <th>Data center</th>
              <th>Team</th>
              <th>App</th>
              <th>Component</th>
              <th>Status</th>
              <th>Replicas</th>
              <th>Source</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((c) => (
              <tr key={`${c.dc}/${c.id}`} data-component={`${c.dc_name}/${c.id}`} data-status={c.status}>
                <td>{c.dc_name}</td>
                <td>{c.tenant}</td>
                <td>{c.app_name}</td>
                <td>
                  <a href={href('c', c.dc, c.tenant, c.id)}>{c.name}</a>
                </td>
                <td>{c.active_operation ? <a href={href('op', c.dc, c.tenant, c.active_operation)}>{c.status}</a> : c.status}</td>
                <td>{c.replicas}</td>
                <td className="muted">{c.source?.image ?? c.source?.git?.url ?? '-'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
