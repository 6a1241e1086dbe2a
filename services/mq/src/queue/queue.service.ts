import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { mqV1 } from '@wharf/contracts';
import { KeyLayout, watchLive, type Etcd3, type LiveWatch } from '@wharf/etcd';
import type { Logger } from '@wharf/logging';
import { decodeTaskRecord, TaskStore } from '../adapters/etcd-task-store.adapter';
import { TopicDispatcher, type Waiter } from '../domain/dispatcher';
import { MqMetrics } from '../http/metrics';
import { ETCD, LOGGER, MQ_SETTINGS } from '../tokens';

/** Most payload bytes one Dequeue answer carries (one task always fits). */
export const MAX_DEQUEUE_BYTES = 4 * 1024 * 1024;

export interface MqSettings {
  keys: KeyLayout;
  defaultLeaseMs: number;
  defaultMaxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  sweepIntervalMs: number;
}

/** The queue of this instance: the etcd task store, the per-topic dispatchers, the wake-up watch and the lease sweeper. */
@Injectable()
export class QueueService implements OnModuleInit, OnApplicationShutdown {
  readonly store: TaskStore;
  private readonly dispatchers = new Map<string, TopicDispatcher>();
  private watcher?: LiveWatch;
  private sweeper?: NodeJS.Timeout;
  private poller?: NodeJS.Timeout;
  private readonly draining = new AbortController();

  constructor(
    @Inject(ETCD) private readonly client: Etcd3,
    @Inject(MQ_SETTINGS) readonly settings: MqSettings,
    @Inject(LOGGER) private readonly logger: Logger,
    readonly metrics: MqMetrics,
  ) {
    this.store = new TaskStore(client, settings.keys, settings);
    metrics.bindStats((topics) => this.store.stats(topics));
  }

  async onModuleInit(): Promise<void> {
    const prefix = this.settings.keys.mq.topicPrefix('task');
    // New or re-queued tasks of any topic wake that topic's local waiters at once, and the
    // event itself carries the record, so the claim needs no read.
    this.watcher = await watchLive(this.client, prefix);
    this.watcher.on('put', (kv) => {
      const [topic, taskId] = kv.key.toString().slice(prefix.length).split('/');
      const dispatcher = this.dispatchers.get(topic);
      if (!dispatcher && !this.leaseListeners.has(topic)) return; // nobody here consumes that topic
      const record = decodeTaskRecord(kv.value);
      this.leaseChanged(topic, taskId, record.lease);
      if (!dispatcher) return;
      if (record.lease) return dispatcher.forget(taskId); // claimed (here or elsewhere) or extended
      const visibleAt = Number(record.visibleAtMs);
      const readyKey = this.settings.keys.mq.ready(topic, visibleAt, taskId);
      if (visibleAt <= Date.now())
        dispatcher.offer({ taskId, readyKey, readyModRevision: String(kv.mod_revision), known: { record, modRevision: String(kv.mod_revision) } });
      else dispatcher.rescan(); // a delayed task: the dispatcher reads when it comes due and schedules its timer
    });
    this.watcher.on('delete', (kv) => {
      const [topic, taskId] = kv.key.toString().slice(prefix.length).split('/');
      this.leaseChanged(topic, taskId, undefined);
      this.dispatchers.get(topic)?.forget(taskId);
    });
    this.watcher.on('retry', (err) => this.logger.warn({ err }, 'task watch cancelled by etcd; watching again (polling covers the gap)'));
    // Events may have been missed (a reconnect, a compacted revision): ready tasks are found by
    // reading, and the tasks Subscribe streams hold are read again (one acked elsewhere frees its slot).
    this.watcher.on('resync', () => {
      this.dispatchers.forEach((d) => d.rescan());
      this.recheckLeases().catch((err) => this.logger.warn({ err }, 'reading held tasks after a watch gap failed; their slots free at lease expiry'));
    });
    this.sweeper = setInterval(() => {
      this.store.sweepExpired().then(
        (n) => n > 0 && (this.metrics.expired.inc(n), this.logger.info({ expired: n }, 'leases expired; tasks queued again')),
        (err) => this.logger.warn({ err }, 'lease sweep failed'),
      );
    }, this.settings.sweepIntervalMs);
    // A safety net for a missed watch event (e.g. during an etcd restart).
    this.poller = setInterval(() => this.dispatchers.forEach((d) => d.rescan()), 1000);
  }

  /** Shutting down: long-polls answer now, streams end, nothing new is claimed. */
  drain(): void {
    this.draining.abort();
  }

  async onApplicationShutdown(): Promise<void> {
    this.drain();
    clearInterval(this.sweeper);
    clearInterval(this.poller);
    this.dispatchers.forEach((d) => d.stop());
    await this.watcher?.cancel().catch(() => undefined);
    this.client.close();
  }

  dispatcher(topic: string): TopicDispatcher {
    let d = this.dispatchers.get(topic);
    if (!d) {
      d = new TopicDispatcher(
        topic,
        this.store,
        (delivery) => this.metrics.delivered(delivery),
        (err) => this.logger.warn({ err, topic }, 'claiming tasks failed'),
      );
      this.dispatchers.set(topic, d);
    }
    return d;
  }

  /** Creates a task; a local waiter, if one is free, gets it in the same etcd transaction. */
  async enqueue(req: { topic: string; taskId: string; eventId: string; payload: Uint8Array; maxAttempts: number; delayMs: number }): Promise<boolean> {
    const dispatcher = req.delayMs === 0 ? this.dispatchers.get(req.topic) : undefined;
    const waiter = dispatcher?.reserveHandoff();
    if (!dispatcher || !waiter) return (await this.store.enqueue(req)).created;
    let result: Awaited<ReturnType<TaskStore['enqueue']>> | undefined;
    try {
      result = await this.store.enqueue(req, { leaseMs: waiter.leaseMs, consumer: waiter.consumer });
      if (result.delivery) this.metrics.handoffs.inc({ topic: req.topic });
      return result.created;
    } finally {
      await dispatcher.completeHandoff(waiter, result?.delivery);
    }
  }

  /** Long-poll: resolves with up to maxTasks deliveries, or none after waitMs. */
  dequeue(topic: string, consumer: string, leaseMs: number, maxTasks: number, waitMs: number, callSignal: AbortSignal): Promise<mqV1.Delivery[]> {
    return new Promise((resolve) => {
      const got: mqV1.Delivery[] = [];
      let open = true;
      const dispatcher = this.dispatcher(topic);
      const finish = () => {
        if (!open) return;
        open = false;
        clearTimeout(timer);
        dispatcher.remove(waiter);
        callSignal.removeEventListener('abort', finish);
        this.draining.signal.removeEventListener('abort', finish);
        resolve(got);
      };
      let bytes = 0;
      const waiter: Waiter = {
        consumer,
        leaseMs,
        want: () => (open && bytes < MAX_DEQUEUE_BYTES ? maxTasks - got.length : 0),
        deliver: (d) => {
          if (!open) return false;
          const size = d.task!.payload.length + 512;
          // Keep the answer well under a client's default message limit (8 MiB): the rest goes to another waiter or back.
          if (got.length > 0 && bytes + size > MAX_DEQUEUE_BYTES) return false;
          bytes += size;
          got.push(d);
          // Return what we have as soon as something arrived; a batch forms when tasks were already waiting.
          setImmediate(finish);
          return true;
        },
      };
      const timer = setTimeout(finish, Math.max(waitMs, 1));
      if (callSignal.aborted || this.draining.signal.aborted) return finish();
      callSignal.addEventListener('abort', finish, { once: true });
      this.draining.signal.addEventListener('abort', finish, { once: true });
      dispatcher.add(waiter);
    });
  }

  /**
   * A stream of deliveries keeping at most maxInFlight un-acked ones. A slot frees when the
   * task is acked, nacked or its lease expires, through any instance (seen in the watch).
   */
  async *subscribe(topic: string, consumer: string, leaseMs: number, maxInFlight: number, callSignal: AbortSignal): AsyncGenerator<mqV1.Delivery> {
    // Ends on cancellation, and cleanly (status OK) when this instance shuts down: the consumer reconnects elsewhere.
    const ended = new AbortController();
    const end = () => ended.abort();
    if (callSignal.aborted || this.draining.signal.aborted) end();
    callSignal.addEventListener('abort', end, { once: true });
    this.draining.signal.addEventListener('abort', end, { once: true });
    const signal = ended.signal;
    const queue: mqV1.Delivery[] = [];
    const outstanding = new Map<string, { leaseId: string; expiresAt: number }>(); // by task id
    let notify: (() => void) | undefined;
    const wake = () => {
      notify?.();
      notify = undefined;
    };
    const inFlight = () => {
      const now = Date.now();
      for (const [id, held] of outstanding) if (held.expiresAt <= now) outstanding.delete(id);
      return outstanding.size;
    };
    const waiter: Waiter = {
      consumer,
      leaseMs,
      want: () => (signal.aborted ? 0 : maxInFlight - inFlight()),
      deliver: (d) => {
        if (signal.aborted) return false;
        outstanding.set(d.task!.taskId, { leaseId: d.leaseId, expiresAt: Number(d.leaseExpiresAtMs) });
        queue.push(d);
        wake();
        return true;
      },
    };
    const dispatcher = this.dispatcher(topic);
    const listener: LeaseListener = (taskId, lease) => {
      const held = outstanding.get(taskId);
      if (!held) return;
      if (lease?.leaseId === held.leaseId) {
        held.expiresAt = Number(lease.expiresAtMs); // extended
      } else {
        outstanding.delete(taskId);
        dispatcher.kick();
      }
    };
    listener.held = () => outstanding.keys();
    let listeners = this.leaseListeners.get(topic);
    if (!listeners) this.leaseListeners.set(topic, (listeners = new Set()));
    listeners.add(listener);
    signal.addEventListener('abort', wake, { once: true });
    dispatcher.add(waiter);
    // Expired leases free slots without any event.
    const refill = setInterval(() => dispatcher.kick(), Math.min(leaseMs, 1000));
    try {
      while (!signal.aborted) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (notify = resolve));
      }
    } finally {
      callSignal.removeEventListener('abort', end);
      this.draining.signal.removeEventListener('abort', end);
      clearInterval(refill);
      dispatcher.remove(waiter);
      listeners.delete(listener);
      if (listeners.size === 0) this.leaseListeners.delete(topic);
      // Deliveries claimed but never written to the stream go straight back.
      for (const d of queue.splice(0)) await this.store.release(topic, d).catch(() => undefined);
    }
  }

  /** Subscribe streams of this instance, by topic, told when a task's lease changes. */
  private readonly leaseListeners = new Map<string, Set<LeaseListener>>();

  /** Ack/Nack through this instance: frees a Subscribe slot at once, before the watch event arrives. */
  settled(topic: string, taskId: string): void {
    this.leaseChanged(topic, taskId, undefined);
  }

  private leaseChanged(topic: string, taskId: string, lease: mqV1.TaskLease | undefined): void {
    this.leaseListeners.get(topic)?.forEach((l) => l(taskId, lease));
  }

  /** After a gap in the watch: the current lease of every task a Subscribe stream of this instance holds. */
  private async recheckLeases(): Promise<void> {
    for (const [topic, listeners] of this.leaseListeners) {
      const held = new Set([...listeners].flatMap((l) => [...(l.held?.() ?? [])]));
      for (const taskId of held) {
        const value = await this.client.get(this.settings.keys.mq.task(topic, taskId)).buffer();
        this.leaseChanged(topic, taskId, value ? decodeTaskRecord(value).lease : undefined);
      }
    }
  }
}

/** Told when a task's lease changes; held: the tasks its Subscribe stream holds. */
type LeaseListener = ((taskId: string, lease: mqV1.TaskLease | undefined) => void) & { held?: () => Iterable<string> };
