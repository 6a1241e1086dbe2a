import type { DcOutcome } from '../api';

/** The per-data-center outcome of a federated read: one that did not answer is said so, the rest are shown anyway. */
export function DcStatusBar({ outcomes }: { outcomes: DcOutcome[] }) {
  if (!outcomes.length) return <p className="muted">No data center yet: an admin adds one under Data centers.</p>;
  return (
    <ul className="dc-status" aria-label="data centers">
      {outcomes.map((o) => (
        <li key={o.id} className={`dc dc-${o.status}`} data-dc={o.name} data-status={o.status} title={o.message ?? ''}>
          <strong>{o.name}</strong> {o.status === 'ok' ? 'ok' : o.status.replace('_', ' ')}
          {o.message && o.status !== 'ok' && <span className="muted"> · {o.message}</span>}
        </li>
      ))}
    </ul>
  );
}
