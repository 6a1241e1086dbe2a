import { create } from '@bufbuild/protobuf';
import { mqV1 } from '@wharf/contracts';
import { TopicDispatcher, type DispatchStore, type Waiter } from './dispatcher';
import type { ClaimFor, ReadyTask } from './claims';

/** An in-memory store: ready tasks by id; a claim succeeds once per task. */
class FakeStore implements DispatchStore {
  readonly waiting = new Set<string>();
  readonly released: string[] = [];
  readonly calls: string[] = [];

  async ready(_topic: string, _now: number, limit: number): Promise<ReadyTask[]> {
    this.calls.push('ready');
    return [...this.waiting].slice(0, limit).map((taskId) => ({ taskId, readyKey: `r/${taskId}`, readyModRevision: '1' }));
  }
  async nextVisibleAt(): Promise<number | undefined> {
    return undefined;
  }
  async claim(topic: string, candidates: (ReadyTask & ClaimFor)[]): Promise<(mqV1.Delivery | undefined)[]> {
    this.calls.push(`claim ${candidates.map((c) => `${c.taskId}>${c.consumer}`).join(',')}`);
    return candidates.map((c) => {
      if (!this.waiting.delete(c.taskId)) return undefined; // someone else took it
      return create(mqV1.DeliverySchema, { task: { topic, taskId: c.taskId, attempt: 1 }, leaseId: `L-${c.taskId}` });
    });
  }
  async release(_topic: string, d: mqV1.Delivery): Promise<void> {
    this.released.push(d.task!.taskId);
    this.waiting.add(d.task!.taskId);
  }
}

function waiter(consumer: string, capacity: number): Waiter & { got: string[]; gone: boolean } {
  const w = {
    consumer,
    leaseMs: 1000,
    got: [] as string[],
    gone: false,
    want: () => (w.gone ? 0 : capacity - w.got.length),
    deliver: (d: mqV1.Delivery) => {
      if (w.gone) return false;
      w.got.push(d.task!.taskId);
      return true;
    },
  };
  return w;
}

const settle = () => new Promise((r) => setTimeout(r, 10));
const hint = (taskId: string): ReadyTask => ({ taskId, readyKey: `r/${taskId}`, readyModRevision: '1' });

describe('TopicDispatcher', () => {
  it('claims waiting tasks for its waiters, never more than each one wants', async () => {
    const store = new FakeStore();
    ['a', 'b', 'c', 'd'].forEach((t) => store.waiting.add(t));
    const d = new TopicDispatcher('q', store);
    const one = waiter('one', 1);
    const two = waiter('two', 2);
    d.add(one);
    d.add(two);
    await settle();
    expect(one.got).toHaveLength(1);
    expect(two.got).toHaveLength(2);
    expect(store.waiting.size).toBe(1);
    d.stop();
  });

  it('claims from watch hints without reading etcd once it knows there is no backlog', async () => {
    const store = new FakeStore();
    const d = new TopicDispatcher('q', store);
    const w = waiter('w', 5);
    d.add(w);
    await settle();
    expect(store.calls).toEqual(['ready']); // the first look finds nothing
    store.waiting.add('x');
    d.offer(hint('x'));
    await settle();
    expect(w.got).toEqual(['x']);
    expect(store.calls).toEqual(['ready', 'claim x>w']);
    d.stop();
  });

  it('offers a hand-off only with no backlog, and reserves the slot until it completes', async () => {
    const store = new FakeStore();
    const d = new TopicDispatcher('q', store);
    const w = waiter('w', 1);
    expect(d.reserveHandoff()).toBeUndefined(); // no waiter
    d.add(w);
    expect(d.reserveHandoff()).toBeUndefined(); // backlog not looked at yet
    await settle();
    const slot = d.reserveHandoff();
    expect(slot).toBe(w);
    expect(d.reserveHandoff()).toBeUndefined(); // its only slot is promised
    // A task arriving meanwhile is not claimed for the promised slot.
    store.waiting.add('y');
    d.offer(hint('y'));
    await settle();
    expect(w.got).toEqual([]);
    await d.completeHandoff(slot!, create(mqV1.DeliverySchema, { task: { taskId: 'z' }, leaseId: 'L' }));
    expect(w.got).toEqual(['z']);
    d.rescan();
    await settle();
    expect(w.got).toEqual(['z']); // full: y waits
    expect(store.waiting.has('y')).toBe(true);
    d.stop();
  });

  it('a failed hand-off frees the slot for the next task', async () => {
    const store = new FakeStore();
    const d = new TopicDispatcher('q', store);
    const w = waiter('w', 1);
    d.add(w);
    await settle();
    const slot = d.reserveHandoff()!;
    await d.completeHandoff(slot, undefined); // e.g. a duplicate task id
    store.waiting.add('n');
    d.offer(hint('n'));
    await settle();
    expect(w.got).toEqual(['n']);
    d.stop();
  });

  it('gives a claimed task to another waiter, or back to the queue, when its waiter left', async () => {
    const store = new FakeStore();
    const d = new TopicDispatcher('q', store);
    const leaving = waiter('leaving', 1);
    d.add(leaving);
    await settle();
    const slot = d.reserveHandoff()!;
    leaving.gone = true;
    await d.completeHandoff(slot, create(mqV1.DeliverySchema, { task: { taskId: 'h' }, leaseId: 'L' }));
    expect(store.released).toEqual(['h']);
    const next = waiter('next', 1);
    d.add(next);
    await settle();
    expect(next.got).toEqual(['h']); // released means a backlog: it is read again
    d.stop();
  });

  it('skips stale hints that another instance already claimed', async () => {
    const store = new FakeStore();
    const d = new TopicDispatcher('q', store);
    const w = waiter('w', 2);
    d.add(w);
    await settle();
    d.offer(hint('gone')); // not in the store any more
    store.waiting.add('real');
    d.offer(hint('real'));
    await settle();
    expect(w.got).toEqual(['real']);
    d.stop();
  });
});
