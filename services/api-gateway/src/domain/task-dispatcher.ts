import type { Logger } from '@wharf/logging';
import { encodeTask, taskHeader, topicOf } from '@wharf/tasks';
import type { OperationView } from './catalog';

/** Enqueues an operation's task (a wharf.tasks.v1.Task, see @wharf/tasks); idempotent by event_id (mq's task id). */
export interface TaskQueue {
  enqueue(topic: string, eventId: string, payload: Uint8Array): Promise<void>;
}

/**
 * Hands accepted operations to mq. The operation is already durable (its OperationRequested
 * is in the event store) when this runs, so a failed enqueue does not fail the request: the
 * task is kept and retried until mq takes it. A queued operation (accepted while another ran)
 * is enqueued when the catalog makes it the component's active one.
 */
export class TaskDispatcher {
  private readonly unsent = new Map<string, OperationView>();
  /** Tasks given as bytes (node tasks: one per node topic), by "<topic> <event id>". */
  private readonly unsentRaw = new Map<string, { topic: string; eventId: string; payload: Uint8Array }>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly queue: TaskQueue,
    private readonly logger: Logger,
  ) {}

  /** Resolves true when mq has the task, false when not: retried later, unless it has no valid task. */
  async dispatch(op: OperationView): Promise<boolean> {
    let topic: string;
    let payload: Uint8Array;
    try {
      if (!op.task) throw new Error(`operation ${op.eventId} (${op.kind}) has no task: its stored request cannot make one`);
      topic = topicOf(taskHeader(op.task).kind);
      payload = encodeTask(op.task);
    } catch (err) {
      // Retrying cannot help a task that cannot be encoded: event-log times the operation out.
      this.logger.error({ err, event_id: op.eventId }, 'operation has no valid task; not enqueued');
      return false;
    }
    try {
      await this.queue.enqueue(topic, op.eventId, payload);
      this.unsent.delete(op.eventId);
      return true;
    } catch (err) {
      this.unsent.set(op.eventId, op);
      this.logger.warn({ err, event_id: op.eventId }, 'enqueue failed; will retry');
      return false;
    }
  }

  /**
   * A ready-made task for one topic (a node task): true when mq has it; false when not, and it
   * is retried with the others while its operation has no final status.
   */
  async send(topic: string, eventId: string, payload: Uint8Array): Promise<boolean> {
    const key = `${topic} ${eventId}`;
    try {
      await this.queue.enqueue(topic, eventId, payload);
      this.unsentRaw.delete(key);
      return true;
    } catch (err) {
      this.unsentRaw.set(key, { topic, eventId, payload });
      this.logger.warn({ err, event_id: eventId, topic }, 'enqueue failed; will retry');
      return false;
    }
  }

  get backlog(): number {
    return this.unsent.size + this.unsentRaw.size;
  }

  /** Retries what mq did not take, oldest first, while the operation is still pending (a raw task: still open). */
  async retry(stillPending: (eventId: string) => boolean, stillOpen: (eventId: string) => boolean = stillPending): Promise<void> {
    for (const op of [...this.unsent.values()]) {
      if (!stillPending(op.eventId)) this.unsent.delete(op.eventId);
      else if (!(await this.dispatch(op))) return; // mq still down: try again next round
    }
    for (const [key, t] of [...this.unsentRaw.entries()]) {
      if (!stillOpen(t.eventId)) this.unsentRaw.delete(key);
      else if (!(await this.send(t.topic, t.eventId, t.payload))) return;
    }
  }

  start(stillPending: (eventId: string) => boolean, everyMs = 2000, stillOpen: (eventId: string) => boolean = stillPending): void {
    this.timer = setInterval(() => void this.retry(stillPending, stillOpen), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
