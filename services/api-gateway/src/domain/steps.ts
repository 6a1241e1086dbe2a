import { eventlogV1 } from '@wharf/contracts';

export interface StepView {
  name: string;
  status: 'running' | 'success' | 'failure';
  message: string | null;
  started_at_ms: number | null;
  finished_at_ms: number | null;
}

/** Where an operation's steps come from (event-log keeps them; the event store does not). */
export interface StepSource {
  steps(eventId: string): Promise<StepView[]>;
}

/** Folds an operation's timeline into its steps, in the order they started; log lines are skipped. */
export function foldSteps(entries: Iterable<eventlogV1.Entry>, into = new Map<string, StepView>()): Map<string, StepView> {
  for (const e of entries) {
    const at = Number(e.storedMs);
    if (e.body.case === 'stepStarted') {
      const name = e.body.value.step;
      if (!into.has(name)) into.set(name, { name, status: 'running', message: null, started_at_ms: at, finished_at_ms: null });
    } else if (e.body.case === 'stepFinished') {
      const { step, status, message } = e.body.value;
      const view = into.get(step) ?? { name: step, status: 'running', message: null, started_at_ms: null, finished_at_ms: null };
      view.status = status === eventlogV1.StepStatus.SUCCESS ? 'success' : 'failure';
      view.message = message || null;
      view.finished_at_ms = at;
      into.set(step, view);
    }
  }
  return into;
}
