import type { tasksV1 } from '@wharf/contracts';
import type { MqClient } from '@wharf/mq-client';
import { encodeTask, taskHeader, topicOf } from '@wharf/tasks';
import type { FollowUpPort } from '../build/ports';

/**
 * Enqueues the task that follows a build (an upgrade under the build's event id). mq's task id
 * is the event id, so enqueuing again after a crash is a no-op; a failed call is retried with
 * back-off for up to `giveUpMs` (mq restarting), then the error goes to the caller.
 */
export class FollowUpQueue implements FollowUpPort {
  constructor(
    private readonly mq: Pick<MqClient, 'enqueue'>,
    private readonly giveUpMs = 30_000,
  ) {}

  async enqueue(task: tasksV1.Task): Promise<void> {
    const header = taskHeader(task);
    const payload = encodeTask(task);
    const deadline = Date.now() + this.giveUpMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.mq.enqueue({ topic: topicOf(header.kind), taskId: header.eventId, eventId: header.eventId, payload }, { timeoutMs: 10_000 });
        return;
      } catch (err) {
        if (Date.now() + delay > deadline) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
