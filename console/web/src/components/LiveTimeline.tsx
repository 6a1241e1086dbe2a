import { useEffect, useState } from 'react';
import { LogView } from '../log/LogView';
import { useOperation } from '../log/use-operation';
import { StepTree } from './StepTree';

/** An operation live: the step tree with durations, the final status, and (full) the virtualized log. */
export function LiveTimeline({ dc, tenant, eventId, full = true }: { dc: string; tenant: string; eventId: string; full?: boolean }) {
  const op = useOperation(dc, tenant, eventId);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (op.view.final) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [op.view.final]);
  const last = op.store.total > 0 ? op.store.line(op.store.total - 1) : undefined;
  return (
    <div className="timeline" data-event={eventId} data-dc={dc} data-final={op.view.final?.status ?? ''}>
      {op.error && <p className="error">{op.error}</p>}
      <StepTree view={op.view} now={now} />
      {full ? (
        <LogView dc={dc} eventId={eventId} store={op.store} version={op.version} visible={op.visible} />
      ) : (
        <pre className="last-line" data-testid="last-line">
          {last ?? ''}
        </pre>
      )}
    </div>
  );
}
