import type { Logger } from '@wharf/logging';
import type { OperationView } from './catalog';

/** Enqueues an operation's task; idempotent by event_id (mq's task id). */
export interface TaskQueue {
  enqueue(topic: string, eventId: string, payload: Uint8Array): Promise<void>;
}

/** The task body every consumer (builder, app-manager) reads: topic = kind, task_id = event_id. */
export function taskPayload(op: Pick<OperationView, 'eventId' | 'kind' | 'target' | 'tenantId' | 'args'>): Uint8Array {
  return Buffer.from(
    JSON.stringify({ event_id: op.eventId, kind: op.kind, target: op.target, tenant_id: op.tenantId, args: op.args ? JSON.parse(op.args) : {} }),
  );
}

/**
 * Hands accepted operations to mq. The operation is already durable (its OperationRequested
 * is in the event store) when this runs, so a failed enqueue does not fail the request: the
 * task is kept and retried until mq takes it. A queued operation (accepted while another ran)
 * is enqueued when the catalog makes it the component's active one.
 */
export class TaskDispatcher {
  private readonly unsent = new Map<string, OperationView>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly queue: TaskQueue,
    private readonly logger: Logger,
  ) {}

  /** Resolves true when mq has the task, false when it will be retried later. */
  async dispatch(op: OperationView): Promise<boolean> {
    try {
      await this.queue.enqueue(op.kind, op.eventId, taskPayload(op));
      this.unsent.delete(op.eventId);
      return true;
    } catch (err) {
      this.unsent.set(op.eventId, op);
      this.logger.warn({ err, event_id: op.eventId }, 'enqueue failed; will retry');
      return false;
    }
  }

  get backlog(): number {
    return this.unsent.size;
  }

  /** Retries what mq did not take, oldest first, while the operation is still pending. */
  async retry(stillPending: (eventId: string) => boolean): Promise<void> {
    for (const op of [...this.unsent.values()]) {
      if (!stillPending(op.eventId)) this.unsent.delete(op.eventId);
      else if (!(await this.dispatch(op))) return; // mq still down: try again next round
    }
  }

  start(stillPending: (eventId: string) => boolean, everyMs = 2000): void {
    this.timer = setInterval(() => void this.retry(stillPending), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
