import { createLogger } from '@wharf/logging';
import { TaskDispatcher, type TaskQueue } from './task-dispatcher';

describe('TaskDispatcher.send (node tasks)', () => {
  it('keeps what mq refused and sends it on a later round, only while the operation is open', async () => {
    let up = false;
    const sent: string[] = [];
    const queue: TaskQueue = {
      async enqueue(topic, eventId) {
        if (!up) throw new Error('mq unavailable');
        sent.push(`${topic} ${eventId}`);
      },
    };
    const d = new TaskDispatcher(queue, createLogger('test', 'silent'));
    expect(await d.send('node-task.a', 'evt-1', new Uint8Array([1]))).toBe(false);
    expect(await d.send('node-task.b', 'evt-1', new Uint8Array([1]))).toBe(false);
    expect(await d.send('node-task.a', 'evt-2', new Uint8Array([2]))).toBe(false);
    expect(d.backlog).toBe(3);
    await d.retry(
      () => false,
      () => true,
    );
    expect(sent).toEqual([]);
    up = true;
    // evt-2 finished meanwhile (event-log timed it out): dropped, not sent.
    await d.retry(
      () => false,
      (id) => id === 'evt-1',
    );
    expect(sent).toEqual(['node-task.a evt-1', 'node-task.b evt-1']);
    expect(d.backlog).toBe(0);
  });
});
