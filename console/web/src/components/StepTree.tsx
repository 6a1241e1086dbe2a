import { duration, shownStatus, type StepNode, type TimelineView } from '../timeline-state';

function Step({ step, now }: { step: StepNode; now: number }) {
  const status = shownStatus(step);
  const took = step.startedMs != null ? duration((step.finishedMs ?? now) - step.startedMs) : '';
  const icon = status === 'success' ? '✔' : status === 'failure' ? '✖' : '⟳';
  return (
    <li className={`step step-${status}`} data-step={step.name} data-status={status}>
      <span className="icon">{icon}</span> {step.name.split('/').pop()} <span className="muted">{took}</span>
      {step.message && step.status === 'failure' && <div className="error">{step.message}</div>}
      {step.children.length > 0 && (
        <ul>
          {step.children.map((c) => (
            <Step key={c.name} step={c} now={now} />
          ))}
        </ul>
      )}
    </li>
  );
}

/** The operation's steps as a tree with statuses and durations, then its final status (with the failing step's message). */
export function StepTree({ view, now }: { view: TimelineView; now: number }) {
  const f = view.final;
  return (
    <div className="steps">
      {view.roots.length === 0 && !f && <p className="muted">Waiting for a worker to start it…</p>}
      <ul>
        {view.roots.map((s) => (
          <Step key={s.name} step={s} now={now} />
        ))}
      </ul>
      {f && (
        <p className={`final final-${f.status}`} data-final={f.status}>
          {f.status === 'success' ? '✔ succeeded' : f.status === 'timeout' ? '⏱ timed out' : '✖ failed'}
          {view.firstMs != null && ` in ${duration(f.atMs - view.firstMs)}`}
          {f.status !== 'success' && `${f.failedStep ? ` at ${f.failedStep}` : ''}: ${f.message}`}
        </p>
      )}
    </div>
  );
}
