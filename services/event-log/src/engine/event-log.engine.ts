import { UnavailableError } from '@wharf/errors';
import type { Logger } from '@wharf/logging';
import type { Clock } from '@wharf/system';
import type { StatusPublisher } from '../adapters/event-store/status-publisher';
import type { FeedOperations } from '../adapters/feed/feed-operations';
import type { Ownership } from '../adapters/ownership/ownership';
import type { PeerFactory } from '../adapters/peers/peer';
import type { PartitionOpener } from '../adapters/storage/partition-opener';
import type { OperationState, PartitionStore } from '../adapters/storage/partition-store';
import type { AppendTotals, TaggedFrame } from '../domain/frames';
import { operationInfo, pageOf, requestedInfo, type OperationInfo } from '../domain/operation-info';
import { partitionOf } from '../domain/partition-of';
import { readinessOf, type PartitionReach, type Readiness } from '../domain/readiness';
import type { EntryRecord } from '../domain/records';
import { FeedAdoption } from './feed-adoption';
import type { FollowSink } from './follow-sink';
import { Follows } from './follows';
import { Partitions } from './partitions';
import { Router } from './router';
import { StatusPublishing } from './status-publishing';
import { Upkeep } from './upkeep';

export interface EngineOptions {
  partitions: number;
  /** No report for this long -> timeout. */
  operationTimeoutMs: number;
  /** A requested operation nothing reported for this long since it could start -> timeout (needs the feed). */
  startTimeoutMs: number;
  retentionBytes: number;
  retentionMs: number;
  /** How often timeouts are looked for. */
  sweepIntervalMs: number;
  /** Page size of history reads. */
  pageSize: number;
}

/** What the engine works with: every side effect comes in through one of these. */
export interface EngineDeps {
  options: EngineOptions;
  ownership: Ownership;
  openPartition: PartitionOpener;
  peers: PeerFactory;
  clock: Clock;
  logger: Logger;
  /** Operations requested in the event store (start timeouts, adoption, listings); absent: frames only. */
  feed?: FeedOperations;
  /** Where final statuses are published (needs the feed). */
  publisher?: StatusPublisher;
}

/** A remote owner's answer to the readiness probe must come within this. */
const PROBE_TIMEOUT_MS = 1000;
const HOT_IDLE_MS = 5 * 60_000;
const RETENTION_INTERVAL_MS = 60_000;

/**
 * The event log of this instance: the partitions it owns (storage, index, final status,
 * timeouts, publishing to the event store) and forwarding of everything else to the owner.
 * It composes the parts (partitions, routing, follows, feed adoption, publishing, upkeep)
 * and is what the gRPC service and the bridge to the main thread call.
 */
export class EventLogEngine {
  private readonly options: EngineOptions;
  private readonly ownership: Ownership;
  private readonly logger: Logger;
  private readonly feed?: FeedOperations;
  private readonly partitions: Partitions;
  private readonly router: Router;
  private readonly follows: Follows;
  private readonly publishing?: StatusPublishing;
  private readonly adoption?: FeedAdoption;
  private readonly upkeep: Upkeep;
  /** For each partition an event id that hashes to it: the readiness probe asks its owner about it. */
  private readonly probeIds: string[];
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  /** Fatal storage failure: the process should exit and recover from disk. */
  onFatal: (err: Error) => void = () => undefined;

  constructor(deps: EngineDeps) {
    this.options = deps.options;
    this.ownership = deps.ownership;
    this.logger = deps.logger;
    this.feed = deps.feed;
    this.partitions = new Partitions(deps.openPartition, deps.clock, deps.logger);
    this.router = new Router(deps.ownership, this.partitions, deps.peers);
    this.follows = new Follows(this.router, deps.options.pageSize);
    const fatal = (err: Error) => this.reportFatal(err);
    if (deps.feed && deps.publisher)
      this.publishing = new StatusPublishing({
        publisher: deps.publisher,
        feed: deps.feed,
        isCurrent: (s) => this.partitions.isCurrent(s),
        logger: deps.logger,
      });
    const kick = (store: PartitionStore, op: OperationState) => this.publishing?.kick(store, op);
    if (deps.feed)
      this.adoption = new FeedAdoption({ feed: deps.feed, partitionOf: (id) => this.partitionOf(id), store: (p) => this.partitions.get(p), kick, fatal });
    const adoption = this.adoption;
    this.upkeep = new Upkeep({
      operationTimeoutMs: deps.options.operationTimeoutMs,
      start: adoption && { timeoutMs: deps.options.startTimeoutMs, waitingSince: (op) => adoption.waitingSince(op) },
      retentionBytes: deps.options.retentionBytes,
      retentionMs: deps.options.retentionMs,
      partitions: deps.options.partitions,
      hotIdleMs: HOT_IDLE_MS,
      logger: deps.logger,
      decided: kick,
      fatal,
    });
    this.partitions.onOpened = (store) => {
      this.publishing?.kickAll(store);
      this.adoption?.adoptUnreported(store);
    };
    this.partitions.onClosing = (p) => this.follows.endPartition(p, 'partition moved');
    this.probeIds = probeIds(deps.options.partitions);
  }

  async start(): Promise<void> {
    await this.ownership.start({ acquire: (p) => this.partitions.acquire(p), release: (p) => this.partitions.release(p) });
    this.timers.push(setInterval(() => this.sweep(), this.options.sweepIntervalMs));
    this.timers.push(setInterval(() => void this.upkeep.retention(this.partitions.all()), RETENTION_INTERVAL_MS));
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.publishing?.stop();
    for (const t of this.timers) clearInterval(t);
    await this.ownership.stop();
    await this.partitions.releaseAll();
    this.router.close();
  }

  partitionOf(eventId: string): number {
    return partitionOf(eventId, this.options.partitions);
  }

  ownedPartitions(): number[] {
    return this.partitions.owned();
  }

  /** Looks for silent operations now (the timer does it every sweepIntervalMs). */
  sweep(): void {
    if (this.stopped) return;
    this.upkeep.sweep(this.partitions.all());
  }

  /**
   * Ready when this instance can serve appends for every partition: each is open here or owned
   * by an instance that answers (probed now), and ownership is known (etcd reachable).
   */
  async readiness(): Promise<Readiness> {
    const reach = await Promise.all(
      Array.from({ length: this.options.partitions }, async (_, p): Promise<PartitionReach> => {
        const owner = this.ownership.owner(p);
        if (!owner) return { state: 'unowned' };
        if (owner.local) return this.partitions.isOpen(p) ? { state: 'open' } : { state: 'not-open' };
        const reachable = await this.router
          .peer(owner.grpc)
          .info(this.probeIds[p], { timeoutMs: PROBE_TIMEOUT_MS })
          .then(
            () => true,
            () => false,
          );
        return { state: 'remote', instance: owner.instance, reachable };
      }),
    );
    return readinessOf(reach, this.ownership.problem());
  }

  /** Stores (or forwards) validated frames; resolves when all are durable at their owners. */
  async append(frames: TaggedFrame[], forwarded = false): Promise<AppendTotals> {
    const byPartition = new Map<number, TaggedFrame[]>();
    for (const f of frames) {
      const p = this.partitionOf(f.frame.eventId);
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push(f);
    }
    const totals: AppendTotals = { accepted: 0, duplicates: 0 };
    const pending: Promise<void>[] = [];
    for (const [p, list] of byPartition) {
      const route = await this.router.route(p, forwarded);
      if ('store' in route) {
        const out = route.store.append(list.map((f) => f.frame));
        totals.accepted += out.accepted;
        totals.duplicates += out.duplicates;
        pending.push(out.durable.catch((err) => this.storageFailed(err as Error)));
        void out.durable.then(
          () => {
            for (const op of out.started) this.publishing?.kick(route.store, op);
            for (const op of out.decided) this.publishing?.kick(route.store, op);
          },
          () => undefined,
        );
      } else {
        pending.push(
          route.peer.append(list).then((res) => {
            totals.accepted += res.accepted;
            totals.duplicates += res.duplicates;
          }),
        );
      }
    }
    await Promise.all(pending);
    return totals;
  }

  /** What is known of an operation (feed + storage), wherever its partition lives. */
  async info(eventId: string, forwarded = false): Promise<OperationInfo | undefined> {
    const route = await this.router.route(this.partitionOf(eventId), forwarded);
    if ('store' in route) return this.localInfo(route.store, eventId);
    return route.peer.info(eventId);
  }

  /** A page of history: entries with seq > afterSeq. */
  async read(eventId: string, afterSeq: number, limit: number, forwarded = false): Promise<{ info?: OperationInfo; entries: EntryRecord[]; more: boolean }> {
    const route = await this.router.route(this.partitionOf(eventId), forwarded);
    const max = Math.min(limit || this.options.pageSize, 5000);
    if ('peer' in route) return route.peer.read(eventId, afterSeq, max);
    const info = this.localInfo(route.store, eventId);
    const entries = limit === 0 && forwarded ? [] : await route.store.read(eventId, afterSeq, max);
    const last = entries.length ? entries[entries.length - 1].s : afterSeq;
    return { info, entries, more: last < (info?.lastSeq ?? 0) };
  }

  /**
   * Entries after afterSeq, then live ones as they become durable: no gap, no duplicate.
   * Served by the partition's owner (here, or through its Follow stream). Returns a cancel.
   */
  follow(eventId: string, afterSeq: number, sink: FollowSink, forwarded = false): () => void {
    return this.follows.follow(this.partitionOf(eventId), eventId, afterSeq, sink, forwarded);
  }

  /** Operations of a target, newest first, from the feed (every instance has all of them). */
  listOperations(target: string, cursor: string, limit: number): { operations: OperationInfo[]; nextCursor: string } {
    const ids = [...(this.feed?.byTarget.get(target) ?? [])];
    for (const store of this.partitions.all()) for (const id of store.byTarget.get(target) ?? []) if (!this.feed?.operations.has(id)) ids.push(id);
    ids.reverse();
    const { page, nextCursor } = pageOf(ids, cursor, limit);
    const operations = page.map((id) => {
      const store = this.partitions.get(this.partitionOf(id));
      return store ? this.localInfo(store, id)! : requestedInfo(id, target, this.feed?.operations.get(id));
    });
    return { operations, nextCursor };
  }

  private localInfo(store: PartitionStore, eventId: string): OperationInfo | undefined {
    return operationInfo(eventId, store.get(eventId), this.feed?.operations.get(eventId));
  }

  private reportFatal(err: Error): void {
    this.logger.fatal({ err }, 'storage failed; nothing more can be acknowledged');
    this.onFatal(err);
  }

  private storageFailed(err: Error): never {
    this.reportFatal(err);
    throw new UnavailableError('storage failure');
  }
}

/** probeIds(n)[p]: a valid event id of partition p. */
function probeIds(partitions: number): string[] {
  const ids: string[] = new Array<string>(partitions);
  let missing = partitions;
  for (let i = 0; missing > 0; i++) {
    const id = `readiness-probe-${i}`;
    const p = partitionOf(id, partitions);
    if (ids[p] === undefined) {
      ids[p] = id;
      missing--;
    }
  }
  return ids;
}
