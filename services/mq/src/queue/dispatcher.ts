import type { mqV1 } from '@wharf/contracts';
import { MAX_CLAIM_BATCH, type TaskStore } from './task-store';

/** A consumer waiting for tasks: a long-poll Dequeue or a Subscribe stream. */
export interface Waiter {
  consumer: string;
  leaseMs: number;
  /** How many more tasks it takes now. */
  want(): number;
  /** Hands over a claimed task; false when the waiter has gone (the task is then released). */
  deliver(delivery: mqV1.Delivery): boolean;
}

/**
 * One per topic per instance: claims for all local waiters together (one etcd transaction
 * for many tasks and consumers) instead of letting every consumer race every other on
 * the same ready keys. Woken by the etcd watch on the ready keys, by a timer for the next
 * delayed task, and by new waiters.
 */
export class TopicDispatcher {
  private readonly waiters: Waiter[] = [];
  private running = false;
  private dirty = false;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly topic: string,
    private readonly store: TaskStore,
    private readonly onDelivered: (delivery: mqV1.Delivery) => void = () => undefined,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  add(waiter: Waiter): void {
    this.waiters.push(waiter);
    this.kick();
  }

  remove(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  get idle(): boolean {
    return this.waiters.length === 0 && !this.running;
  }

  kick(): void {
    if (this.running) {
      this.dirty = true;
      return;
    }
    if (!this.waiters.some((w) => w.want() > 0)) return;
    this.running = true;
    void this.loop()
      .catch((err) => {
        this.onError(err);
        this.schedule(Date.now() + 500); // etcd trouble: try again shortly
      })
      .finally(() => {
        this.running = false;
        if (this.dirty) this.kick();
      });
  }

  stop(): void {
    clearTimeout(this.timer);
    this.waiters.length = 0;
  }

  private async loop(): Promise<void> {
    for (;;) {
      this.dirty = false;
      const slots = this.waiters.flatMap((w) => Array.from({ length: Math.max(0, w.want()) }, () => w)).slice(0, MAX_CLAIM_BATCH);
      if (slots.length === 0) return;
      const ready = await this.store.ready(this.topic, Date.now(), slots.length);
      if (ready.length === 0) {
        if (this.dirty) continue;
        const next = await this.store.nextVisibleAt(this.topic);
        if (next !== undefined) this.schedule(next);
        return;
      }
      const claims = await this.store.claim(this.topic, ready.map((r, i) => ({ ...r, leaseMs: slots[i].leaseMs, consumer: slots[i].consumer })));
      for (let i = 0; i < claims.length; i++) {
        const delivery = claims[i];
        if (!delivery) continue;
        this.onDelivered(delivery);
        if (!slots[i].deliver(delivery)) {
          // The waiter left while we claimed: give it to another or put it back.
          const other = this.waiters.find((w) => w !== slots[i] && w.want() > 0);
          if (!other || !other.deliver(delivery)) await this.store.release(this.topic, delivery);
        }
      }
    }
  }

  private schedule(at: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), Math.max(1, at - Date.now()));
    this.timer.unref();
  }
}
