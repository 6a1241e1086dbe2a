import type { mqV1 } from '@wharf/contracts';
import { MAX_CLAIM_BATCH, type ClaimFor, type ReadyTask } from './claims';
import { systemClock, type Clock } from '@wharf/system';

const MAX_HINTS = 1000;

/** A consumer waiting for tasks: a long-poll Dequeue or a Subscribe stream. */
export interface Waiter {
  consumer: string;
  leaseMs: number;
  /** How many more tasks it takes now. */
  want(): number;
  /** Hands over a claimed task; false when the waiter has gone (the task is then released). */
  deliver(delivery: mqV1.Delivery): boolean;
}

/** What the dispatcher needs from the task store (a fake in unit tests). */
export interface DispatchStore {
  ready(topic: string, now: number, limit: number): Promise<ReadyTask[]>;
  nextVisibleAt(topic: string): Promise<number | undefined>;
  claim(topic: string, candidates: (ReadyTask & ClaimFor)[]): Promise<(mqV1.Delivery | undefined)[]>;
  release(topic: string, delivery: mqV1.Delivery): Promise<void>;
}

/**
 * One per topic per instance: claims for all local waiters together (one etcd transaction
 * for many tasks and consumers) instead of letting every consumer race every other on
 * the same ready keys. Woken by the etcd watch on the task keys, by a timer for the next
 * delayed task, and by new waiters.
 */
export class TopicDispatcher {
  private readonly waiters: Waiter[] = [];
  private running = false;
  private dirty = false;
  private timer?: NodeJS.Timeout;
  /** Tasks seen becoming visible through the watch, claimable without reading etcd first. */
  private readonly hints = new Map<string, ReadyTask>();
  /**
   * Whether etcd may hold visible tasks that are not in the hints (at start, after a
   * missed watch event, when a delayed task comes due, or when a read filled a page).
   * Without it every Ack would cost a range read before the next claim.
   */
  private backlog = true;
  private scans = 0;
  /** Slots promised to a claim or a hand-off that has not committed yet. */
  private readonly reserved = new Map<Waiter, number>();

  constructor(
    readonly topic: string,
    private readonly store: DispatchStore,
    private readonly onDelivered: (delivery: mqV1.Delivery) => void = () => undefined,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly clock: Clock = systemClock,
  ) {}

  add(waiter: Waiter): void {
    this.waiters.push(waiter);
    this.kick();
  }

  /** A task just became visible (from the watch). */
  offer(task: ReadyTask): void {
    this.hints.delete(task.taskId);
    this.hints.set(task.taskId, task);
    if (this.hints.size > MAX_HINTS) {
      this.hints.delete(this.hints.keys().next().value!);
      this.backlog = true; // the dropped one is still in etcd
    }
    this.kick();
  }

  /** The task was claimed, acked or moved elsewhere: not a candidate any more. */
  forget(taskId: string): void {
    this.hints.delete(taskId);
  }

  remove(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  get idle(): boolean {
    return this.waiters.length === 0 && !this.running;
  }

  /** Wakes the dispatcher and makes it look in etcd, not only at the hints. */
  rescan(): void {
    this.backlog = true;
    this.scans++;
    this.kick();
  }

  kick(): void {
    if (this.running) {
      this.dirty = true;
      return;
    }
    if (!this.waiters.some((w) => this.free(w) > 0)) return;
    this.running = true;
    void this.loop()
      .catch((err) => {
        this.onError(err);
        this.backlog = true;
        this.schedule(this.clock.now() + 500); // etcd trouble: try again shortly
      })
      .finally(() => {
        this.running = false;
        if (this.dirty) this.kick();
      });
  }

  /**
   * A waiter that a task being enqueued through this instance can go to straight away, in
   * the enqueue's own transaction (one etcd write instead of two), or undefined. Only when
   * nothing older is known to be waiting, so a hand-off never overtakes a backlog.
   */
  reserveHandoff(): Waiter | undefined {
    if (this.backlog || this.hints.size > 0) return undefined;
    const waiter = this.waiters.find((w) => this.free(w) > 0);
    if (waiter) this.reserve(waiter, 1);
    return waiter;
  }

  /** Ends a reservation; with a delivery when the task was leased to the waiter. */
  async completeHandoff(waiter: Waiter, delivery: mqV1.Delivery | undefined): Promise<void> {
    this.reserve(waiter, -1);
    if (delivery) await this.handOver(waiter, delivery);
    else this.kick(); // the slot is free again
  }

  stop(): void {
    clearTimeout(this.timer);
    this.hints.clear();
    this.waiters.length = 0;
  }

  private free(waiter: Waiter): number {
    return waiter.want() - (this.reserved.get(waiter) ?? 0);
  }

  private reserve(waiter: Waiter, n: number): void {
    const left = (this.reserved.get(waiter) ?? 0) + n;
    if (left > 0) this.reserved.set(waiter, left);
    else this.reserved.delete(waiter);
  }

  private async handOver(waiter: Waiter, delivery: mqV1.Delivery): Promise<void> {
    this.onDelivered(delivery);
    if (waiter.deliver(delivery)) return;
    // The waiter left while we claimed: give it to another or put it back.
    const other = this.waiters.find((w) => w !== waiter && this.free(w) > 0);
    if (other && other.deliver(delivery)) return;
    await this.store.release(this.topic, delivery);
    this.backlog = true;
  }

  private async loop(): Promise<void> {
    for (;;) {
      this.dirty = false;
      const slots = this.waiters.flatMap((w) => Array.from({ length: Math.max(0, this.free(w)) }, () => w)).slice(0, MAX_CLAIM_BATCH);
      if (slots.length === 0) return;
      let ready: ReadyTask[];
      if (this.hints.size > 0) {
        // Fast path: claim straight from watch events (stale hints simply lose the compare).
        ready = [...this.hints.values()].slice(0, slots.length);
        ready.forEach((r) => this.hints.delete(r.taskId));
      } else if (this.backlog) {
        const scan = ++this.scans;
        ready = await this.store.ready(this.topic, this.clock.now(), slots.length);
        // Caught up unless the page was full or a rescan came in during the read.
        if (scan === this.scans && ready.length < slots.length) this.backlog = false;
        if (ready.length === 0) {
          const next = await this.store.nextVisibleAt(this.topic);
          if (next !== undefined) this.schedule(next);
        }
      } else {
        ready = [];
      }
      if (ready.length === 0) {
        if (this.dirty) continue;
        return;
      }
      const taken = slots.slice(0, ready.length);
      taken.forEach((w) => this.reserve(w, 1));
      let claims: (mqV1.Delivery | undefined)[];
      try {
        claims = await this.store.claim(
          this.topic,
          ready.map((r, i) => ({ ...r, leaseMs: taken[i].leaseMs, consumer: taken[i].consumer })),
        );
      } finally {
        taken.forEach((w) => this.reserve(w, -1));
      }
      for (let i = 0; i < claims.length; i++) {
        const delivery = claims[i];
        if (delivery) await this.handOver(taken[i], delivery);
      }
    }
  }

  private schedule(at: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.rescan(), Math.max(1, at - this.clock.now()));
    this.timer.unref();
  }
}
