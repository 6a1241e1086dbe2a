import type { EventLogClient, Level, OperationReporter, StepReporter } from '@wharf/event-log-client';

/**
 * What a user watching an operation sees: its steps and lines in event-log, under its event_id.
 * Each operation has two steps: `prepare` (what will run) and one named after its kind
 * (`upgrade`, `scale`, ...) holding a line for every replica created, turning ready, retiring,
 * and for every wait. Steps have fixed names so an app-manager that takes an operation over
 * after a crash re-opens the same steps (event-log lets a step restart) and closes them: the
 * operation never ends with a step left open.
 */
export interface Narrator {
  /** Opens the operation's steps in this process if not yet done; `prepare` gets these lines. */
  begin(op: NarratedOperation, prepare: string[]): void;
  line(eventId: string, text: string, level?: Level): void;
  /**
   * Closes the operation's step and tells event-log everything is reported. Works in any process:
   * one that never began the operation (a restart after it was applied) opens the step to close it.
   */
  conclude(op: NarratedOperation, ok: boolean, message: string): void;
  /** An operation answered at once (pause, resume, a task that cannot be acted on). */
  answer(op: NarratedOperation, ok: boolean, message: string): void;
  flush(): Promise<void>;
}

export interface NarratedOperation {
  eventId: string;
  kind: string;
  componentId: string;
  tenantId: string;
}

export class EventLogNarrator implements Narrator {
  private readonly open = new Map<string, { op: OperationReporter; main: StepReporter }>();

  constructor(private readonly client: EventLogClient) {}

  private reporter(o: NarratedOperation): OperationReporter {
    return this.client.operation(o.eventId, { target: o.componentId ? `component/${o.componentId}` : undefined, tenantId: o.tenantId || undefined });
  }

  begin(o: NarratedOperation, prepare: string[]): void {
    if (this.open.has(o.eventId)) return;
    const op = this.reporter(o);
    const step = op.step('prepare');
    for (const text of prepare) step.line(text);
    step.ok();
    this.open.set(o.eventId, { op, main: op.step(o.kind) });
  }

  line(eventId: string, text: string, level: Level = 'info'): void {
    this.open.get(eventId)?.main.line(text, level);
  }

  conclude(n: NarratedOperation, ok: boolean, message: string): void {
    const o = this.open.get(n.eventId);
    if (!o) return this.answer(n, ok, message);
    if (ok) {
      if (message) o.main.line(message);
      o.main.ok();
    } else o.main.fail(message);
    o.op.done();
    this.open.delete(n.eventId);
  }

  answer(o: NarratedOperation, ok: boolean, message: string): void {
    const op = this.reporter(o);
    const step = op.step(o.kind);
    if (ok) {
      step.line(message);
      step.ok();
    } else step.fail(message);
    op.done();
  }

  async flush(): Promise<void> {
    await this.client.flush(5000);
  }
}
