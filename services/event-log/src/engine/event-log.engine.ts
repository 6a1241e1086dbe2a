import { create } from '@bufbuild/protobuf';
import { eventlogV1, eventsV1 } from '@wharf/contracts';
import { createClient, NotFoundError, UnavailableError, type ServiceClient } from '@wharf/grpc';
import type { Logger } from '@wharf/logging';
import type { TransportSecurity } from '@wharf/pki';
import { join } from 'node:path';
import type { Ownership } from '../cluster/ownership';
import { fromProto } from '../domain/entry-codec';
import type { IngestFrame } from '../domain/frames';
import { partitionOf, waitingSince } from '../domain/operation-rules';
import type { FeedCatalog, FeedOperation } from '../feed/catalog';
import { PartitionStore, type OperationState } from '../storage/partition-store';
import type { EntryRecord } from '../storage/records';
import type { StatusPublisher } from './status-publisher';

export interface EngineOptions {
  dataDir: string;
  partitions: number;
  segmentBytes: number;
  hotEntries: number;
  /** No report for this long -> timeout. */
  operationTimeoutMs: number;
  /** A requested operation nothing reported for this long since it could start -> timeout (needs the catalog). */
  startTimeoutMs: number;
  retentionBytes: number;
  retentionMs: number;
  /** How often timeouts are looked for. */
  sweepIntervalMs: number;
  /** Page size of history reads. */
  pageSize: number;
  /** How forwarded calls reach the other instances (mutual TLS as event-log). */
  peerSecurity: TransportSecurity;
  /** Told after every group commit of any partition (metrics). */
  onCommit?: (ms: number, records: number) => void;
}

export interface OperationInfo {
  eventId: string;
  tenantId: string;
  target: string;
  status: eventsV1.OperationStatus;
  message: string;
  failedStep: string;
  lastSeq: number;
  firstMs: number;
  lastMs: number;
}

/** A follower of one operation's timeline. */
export interface FollowSink {
  entries(entries: EntryRecord[]): void;
  /** The stream stopped (partition moved, owner gone, shutdown): resume from the last seq seen. */
  end(reason: string): void;
}

export interface TaggedFrame {
  frame: IngestFrame;
  wire: eventlogV1.Frame;
}

export interface AppendTotals {
  accepted: number;
  duplicates: number;
}

export const FORWARDED = 'x-wharf-eventlog-forwarded';

/**
 * The event log of this instance: the partitions it owns (storage, index, final status,
 * timeouts, publishing to the event store) and forwarding of everything else to the owner.
 */
export class EventLogEngine {
  private readonly stores = new Map<number, PartitionStore>();
  private readonly opening = new Map<number, Promise<PartitionStore>>();
  private readonly localFollows = new Map<number, Set<FollowSink>>();
  private readonly peers = new Map<string, ServiceClient<typeof eventlogV1.EventLogService>>();
  private readonly publishing = new Set<string>();
  private readonly republish = new Set<string>();
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  /** Fatal storage failure: the process should exit and recover from disk. */
  onFatal: (err: Error) => void = () => undefined;

  constructor(
    readonly options: EngineOptions,
    private readonly ownership: Ownership,
    private readonly logger: Logger,
    private readonly catalog?: FeedCatalog,
    private readonly publisher?: StatusPublisher,
  ) {
    if (catalog) catalog.onRequested = (op) => this.onRequested(op);
  }

  async start(): Promise<void> {
    await this.ownership.start({ acquire: (p) => this.acquire(p), release: (p) => this.release(p) });
    this.timers.push(setInterval(() => this.sweep(), this.options.sweepIntervalMs));
    this.timers.push(setInterval(() => void this.retention(), 60_000));
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.ownership.stop();
    for (const p of [...this.stores.keys()]) await this.release(p);
    for (const c of this.peers.values()) c.close();
  }

  partitionOf(eventId: string): number {
    return partitionOf(eventId, this.options.partitions);
  }

  ownedPartitions(): number[] {
    return [...this.stores.keys()].sort((a, b) => a - b);
  }

  localStore(eventId: string): PartitionStore | undefined {
    return this.stores.get(this.partitionOf(eventId));
  }

  // ---- ownership ----------------------------------------------------------------------------

  async acquire(partition: number): Promise<void> {
    if (this.stores.has(partition)) return;
    let opening = this.opening.get(partition);
    if (!opening) {
      opening = (async () => {
        const started = Date.now();
        const dir = join(this.options.dataDir, `p-${String(partition).padStart(4, '0')}`);
        const { store, report, repaired } = await PartitionStore.open(partition, dir, {
          segmentBytes: this.options.segmentBytes,
          hotEntries: this.options.hotEntries,
          onCommit: this.options.onCommit,
        });
        if (report.truncatedBytes || report.damagedSegments.length || repaired)
          this.logger.warn({ partition, ...report, repaired }, 'partition recovered from a damaged tail');
        this.logger.info(
          { partition, ms: Date.now() - started, records: report.records, segments: report.segments, operations: store.ops.size },
          'partition opened',
        );
        this.stores.set(partition, store);
        for (const op of store.ops.values()) this.kickPublish(store, op);
        this.adoptUnreported(store);
        return store;
      })();
      this.opening.set(partition, opening);
    }
    try {
      await opening;
    } finally {
      this.opening.delete(partition);
    }
  }

  async release(partition: number): Promise<void> {
    const store = this.stores.get(partition);
    if (!store) return;
    this.stores.delete(partition);
    const follows = this.localFollows.get(partition);
    this.localFollows.delete(partition);
    for (const f of follows ?? []) f.end('partition moved');
    await store.close();
    this.logger.info({ partition }, 'partition released');
  }

  private async storeFor(partition: number): Promise<PartitionStore | undefined> {
    const s = this.stores.get(partition);
    if (s) return s;
    const opening = this.opening.get(partition);
    if (opening) return opening;
    return undefined;
  }

  private peer(grpc: string): ServiceClient<typeof eventlogV1.EventLogService> {
    let c = this.peers.get(grpc);
    if (!c) this.peers.set(grpc, (c = createClient(eventlogV1.EventLogService, grpc, { security: this.options.peerSecurity })));
    return c;
  }

  /** The local store of a partition, or the owner's client, or UNAVAILABLE while it moves. */
  private async route(partition: number): Promise<{ store: PartitionStore } | { peer: ServiceClient<typeof eventlogV1.EventLogService> }> {
    const owner = this.ownership.owner(partition);
    if (owner?.local) {
      const store = await this.storeFor(partition);
      if (store) return { store };
    } else if (owner) return { peer: this.peer(owner.grpc) };
    throw new UnavailableError(`partition ${partition} is moving between instances; retry`);
  }

  // ---- ingest -------------------------------------------------------------------------------

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
      const route = forwarded ? await this.localOnly(p) : await this.route(p);
      if ('store' in route) {
        const out = route.store.append(list.map((f) => f.frame));
        totals.accepted += out.accepted;
        totals.duplicates += out.duplicates;
        pending.push(out.durable.catch((err) => this.fatal(err as Error)));
        void out.durable.then(
          () => {
            for (const op of out.started) this.kickPublish(route.store, op);
            for (const op of out.decided) this.kickPublish(route.store, op);
          },
          () => undefined,
        );
      } else {
        pending.push(
          route.peer.append({ frames: list.map((f) => f.wire) }, { timeoutMs: 10_000, metadata: { [FORWARDED]: '1' } }).then((res) => {
            totals.accepted += res.accepted;
            totals.duplicates += res.duplicates;
          }),
        );
      }
    }
    await Promise.all(pending);
    return totals;
  }

  /** A forwarded call must be served here: forwarding again could loop while ownership moves. */
  private async localOnly(partition: number): Promise<{ store: PartitionStore }> {
    const owner = this.ownership.owner(partition);
    const store = owner?.local ? await this.storeFor(partition) : undefined;
    if (!store) throw new UnavailableError(`partition ${partition} is not owned by this instance (moved); retry`);
    return { store };
  }

  private fatal(err: Error): never {
    this.logger.fatal({ err }, 'storage failed; nothing more can be acknowledged');
    this.onFatal(err);
    throw new UnavailableError('storage failure');
  }

  // ---- reads --------------------------------------------------------------------------------

  /** What is known of an operation (feed + storage), wherever its partition lives. */
  async info(eventId: string, forwarded = false): Promise<OperationInfo | undefined> {
    const p = this.partitionOf(eventId);
    const route = forwarded ? await this.localOnly(p) : await this.route(p);
    if ('store' in route) return this.localInfo(route.store, eventId);
    const res = await route.peer.read({ eventId, afterSeq: 0n, limit: 0 }, { timeoutMs: 5000, metadata: { [FORWARDED]: '1' } }).catch((err) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    return res?.operation ? infoFromProto(res.operation) : undefined;
  }

  localInfo(store: PartitionStore, eventId: string): OperationInfo | undefined {
    const op = store.get(eventId);
    const f = this.catalog?.operations.get(eventId);
    if (!op && !f) return undefined;
    const final = op?.final ?? f?.finished;
    const status = final
      ? final.status
      : op?.durableSeq
        ? eventsV1.OperationStatus.RUNNING
        : f?.started
          ? eventsV1.OperationStatus.RUNNING
          : eventsV1.OperationStatus.PENDING;
    return {
      eventId,
      tenantId: f?.tenantId || op?.tenantId || '',
      target: f?.target || op?.target || '',
      status,
      message: final?.message ?? '',
      failedStep: final?.failedStep ?? '',
      lastSeq: op?.durableSeq ?? 0,
      firstMs: op?.firstMs ?? f?.requestedMs ?? 0,
      lastMs: op?.lastMs ?? f?.requestedMs ?? 0,
    };
  }

  /** A page of history: entries with seq > afterSeq. */
  async read(eventId: string, afterSeq: number, limit: number, forwarded = false): Promise<{ info?: OperationInfo; entries: EntryRecord[]; more: boolean }> {
    const p = this.partitionOf(eventId);
    const route = forwarded ? await this.localOnly(p) : await this.route(p);
    const max = Math.min(limit || this.options.pageSize, 5000);
    if ('store' in route) {
      const info = this.localInfo(route.store, eventId);
      const entries = limit === 0 && forwarded ? [] : await route.store.read(eventId, afterSeq, max);
      const last = entries.length ? entries[entries.length - 1].s : afterSeq;
      return { info, entries, more: last < (info?.lastSeq ?? 0) };
    }
    const res = await route.peer.read({ eventId, afterSeq: BigInt(afterSeq), limit: max }, { timeoutMs: 10_000, metadata: { [FORWARDED]: '1' } });
    return {
      info: res.operation ? infoFromProto(res.operation) : undefined,
      entries: res.entries.map((e) => fromProto(eventId, e)).filter((e): e is EntryRecord => !!e),
      more: res.more,
    };
  }

  /**
   * Entries after afterSeq, then live ones as they become durable: no gap, no duplicate.
   * Served by the partition's owner (here, or through its Follow stream). Returns a cancel.
   */
  follow(eventId: string, afterSeq: number, sink: FollowSink, forwarded = false): () => void {
    let cancelled = false;
    let cancelInner: () => void = () => undefined;
    const p = this.partitionOf(eventId);
    void (async () => {
      const route = forwarded ? await this.localOnly(p) : await this.route(p);
      if (cancelled) return;
      if ('store' in route) cancelInner = this.followLocal(route.store, eventId, afterSeq, sink);
      else cancelInner = this.followRemote(route.peer, eventId, afterSeq, sink);
    })().catch((err) => {
      if (!cancelled) sink.end((err as Error).message);
    });
    return () => {
      cancelled = true;
      cancelInner();
    };
  }

  private followLocal(store: PartitionStore, eventId: string, afterSeq: number, sink: FollowSink): () => void {
    let cursor = afterSeq;
    let cancelled = false;
    let unlisten: () => void = () => undefined;
    const partition = store.partition;
    let set = this.localFollows.get(partition);
    if (!set) this.localFollows.set(partition, (set = new Set()));
    const tracked: FollowSink = { entries: sink.entries, end: (reason) => (cancel(), sink.end(reason)) };
    set.add(tracked);
    const cancel = () => {
      cancelled = true;
      unlisten();
      this.localFollows.get(partition)?.delete(tracked);
    };
    void (async () => {
      while (!cancelled) {
        const upTo = store.durableSeq(eventId);
        const hot = store.readHot(eventId, cursor, upTo);
        if (hot) {
          // Synchronous from here to listen(): nothing can become durable in between.
          if (hot.length) {
            cursor = hot[hot.length - 1].s;
            sink.entries(hot);
          }
          unlisten = store.listen(eventId, (entries) => {
            const fresh = entries[0].s > cursor ? entries : entries.filter((e) => e.s > cursor);
            if (fresh.length === 0) return;
            cursor = fresh[fresh.length - 1].s;
            sink.entries(fresh);
          });
          return;
        }
        const page = await store.read(eventId, cursor, this.options.pageSize, upTo);
        if (cancelled) return;
        if (page.length === 0) {
          // Entries up to upTo are gone (retention): continue after them.
          cursor = Math.max(cursor, (store.get(eventId)?.firstSeq ?? 1) - 1, upTo);
          continue;
        }
        cursor = page[page.length - 1].s;
        sink.entries(page);
      }
    })().catch((err) => {
      if (!cancelled) tracked.end((err as Error).message);
    });
    return cancel;
  }

  private followRemote(peer: ServiceClient<typeof eventlogV1.EventLogService>, eventId: string, afterSeq: number, sink: FollowSink): () => void {
    const controller = new AbortController();
    void (async () => {
      for await (const res of peer.follow({ eventId, afterSeq: BigInt(afterSeq) }, { signal: controller.signal, metadata: { [FORWARDED]: '1' } })) {
        const entries = res.entries.map((e) => fromProto(eventId, e)).filter((e): e is EntryRecord => !!e);
        if (entries.length) sink.entries(entries);
      }
      sink.end('owner ended the stream');
    })().catch((err) => {
      if (!controller.signal.aborted) sink.end(`owner unavailable: ${(err as Error).message}`);
    });
    return () => controller.abort();
  }

  /** Operations of a target, newest first, from the feed (every instance has all of them). */
  listOperations(target: string, cursor: string, limit: number): { operations: OperationInfo[]; nextCursor: string } {
    const ids = [...(this.catalog?.byTarget.get(target) ?? [])];
    for (const store of this.stores.values()) for (const id of store.byTarget.get(target) ?? []) if (!this.catalog?.operations.has(id)) ids.push(id);
    ids.reverse();
    const start = cursor ? Number(cursor) : 0;
    const max = Math.min(limit || 50, 500);
    const page = ids.slice(start, start + max);
    const operations = page.map((id) => {
      const store = this.localStore(id);
      const f = this.catalog?.operations.get(id);
      if (store) return this.localInfo(store, id)!;
      return {
        eventId: id,
        tenantId: f?.tenantId ?? '',
        target,
        status: f?.finished?.status ?? (f?.started ? eventsV1.OperationStatus.RUNNING : eventsV1.OperationStatus.PENDING),
        message: f?.finished?.message ?? '',
        failedStep: f?.finished?.failedStep ?? '',
        lastSeq: 0,
        firstMs: f?.requestedMs ?? 0,
        lastMs: f?.finished?.timeMs ?? f?.requestedMs ?? 0,
      };
    });
    return { operations, nextCursor: start + max < ids.length ? String(start + max) : '' };
  }

  // ---- final status -------------------------------------------------------------------------

  private sweep(): void {
    if (this.stopped) return;
    const start = this.catalog ? { timeoutMs: this.options.startTimeoutMs, waitingSince: (op: OperationState) => this.waitingSince(op) } : undefined;
    for (const store of this.stores.values()) {
      const { decided, durable } = store.sweepTimeouts(this.options.operationTimeoutMs, start);
      if (decided.length === 0) continue;
      durable.then(
        () => {
          for (const op of decided) {
            this.logger.info({ event_id: op.eventId, partition: store.partition }, 'operation timed out');
            this.kickPublish(store, op);
          }
        },
        (err) => this.fatal(err as Error),
      );
    }
    for (const store of this.stores.values()) store.trimHot(5 * 60_000);
  }

  private async retention(): Promise<void> {
    const perPartition = this.options.retentionBytes / Math.max(1, this.options.partitions);
    for (const store of [...this.stores.values()]) {
      try {
        const removed = await store.enforceRetention(perPartition, this.options.retentionMs);
        if (removed) this.logger.info({ partition: store.partition, segments: removed }, 'retention removed old segments');
      } catch (err) {
        this.logger.warn({ err, partition: store.partition }, 'retention failed');
      }
    }
  }

  private onRequested(f: FeedOperation): void {
    const store = this.localStore(f.eventId);
    if (!store) return;
    const op = store.get(f.eventId);
    if (!op) return this.adopt(store, f);
    store.setMeta(op, f.target, f.tenantId)?.catch((err) => this.fatal(err as Error));
    this.kickPublish(store, op);
  }

  /** Requested operations of this partition that never reported here: indexed so they can time out. */
  private adoptUnreported(store: PartitionStore): void {
    if (!this.catalog) return;
    // Finished is checked first: most of the history is finished, and hashing every event id
    // of it on each partition's opening would only slow the start.
    for (const f of this.catalog.operations.values())
      if (!f.finished && this.partitionOf(f.eventId) === store.partition && !store.get(f.eventId)) this.adopt(store, f);
  }

  private adopt(store: PartitionStore, f: FeedOperation): void {
    // Finished ones are history (their log may be gone by retention): nothing to watch.
    if (f.finished) return;
    store.adopt(f.eventId, f.target, f.tenantId, f.requestedMs)?.catch((err) => this.fatal(err as Error));
  }

  /** See waitingSince(): the clock of a never-reported operation, from the catalog's order per target. */
  private waitingSince(op: OperationState): number | undefined {
    const f = this.catalog?.operations.get(op.eventId);
    if (!f) return op.firstMs;
    const ids = this.catalog!.byTarget.get(f.target) ?? [];
    const i = ids.indexOf(op.eventId);
    const before = i > 0 ? this.catalog!.operations.get(ids[i - 1]) : undefined;
    return waitingSince(f.requestedMs, before && { finishedMs: before.finished?.timeMs });
  }

  /** Nothing was ever reported (no entry, or only the final one): there is no OperationStarted to publish. */
  private neverReported(op: OperationState): boolean {
    return op.lastSeq === 0 || op.finalSeq === 1;
  }

  /**
   * Starts publishing what the event store still lacks for this operation, in the background:
   * OperationStarted, then OperationFinished once the final entry is durable. One loop per
   * operation at a time; a decision made while it runs triggers another pass.
   */
  kickPublish(store: PartitionStore, op: OperationState): void {
    if (!this.publisher || !this.catalog || this.stopped) return;
    if ((op.startedPublished || this.neverReported(op)) && (op.published || !this.finalDurable(op))) return;
    if (this.publishing.has(op.eventId)) {
      this.republish.add(op.eventId);
      return;
    }
    this.publishing.add(op.eventId);
    void this.publishLoop(store, op).finally(() => {
      this.publishing.delete(op.eventId);
      if (this.republish.delete(op.eventId) && this.stores.get(store.partition) === store) this.kickPublish(store, op);
    });
  }

  private finalDurable(op: OperationState): boolean {
    return !!op.final && op.finalSeq > 0 && op.finalSeq <= op.durableSeq;
  }

  private async publishLoop(store: PartitionStore, op: OperationState): Promise<void> {
    const publisher = this.publisher!;
    let delay = 200;
    while (!this.stopped && this.stores.get(store.partition) === store) {
      const f = this.catalog!.operations.get(op.eventId);
      const target = f?.target || op.target;
      // Without a target there is no stream to append to: onRequested() retries when it appears.
      if (!target) return;
      const from = f?.requestedVersion ?? 1;
      try {
        if (!op.startedPublished && !this.neverReported(op)) {
          if (!f?.started && (await publisher.started(target, from, op.eventId)) === 'no-stream') return this.noStream(op, target);
          await store.markPublished(op, 'pubs');
        }
        if (this.finalDurable(op) && !op.published) {
          if (!f?.finished && (await publisher.finished(target, from, op.eventId, op.final!)) === 'no-stream') return this.noStream(op, target);
          await store.markPublished(op, 'pub');
        }
        return;
      } catch (err) {
        this.logger.warn({ err, event_id: op.eventId }, 'publishing to the event store failed; retrying');
        await new Promise((r) => setTimeout(r, delay).unref());
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private noStream(op: OperationState, target: string): void {
    this.logger.warn({ event_id: op.eventId, target }, 'target stream does not exist; status kept in event-log only');
  }
}

export function infoFromProto(o: eventlogV1.OperationInfo): OperationInfo {
  return {
    eventId: o.eventId,
    tenantId: o.tenantId,
    target: o.target,
    status: o.status,
    message: o.message,
    failedStep: o.failedStep,
    lastSeq: Number(o.lastSeq),
    firstMs: Number(o.firstMs),
    lastMs: Number(o.lastMs),
  };
}

export function infoToProto(i: OperationInfo): eventlogV1.OperationInfo {
  return create(eventlogV1.OperationInfoSchema, {
    eventId: i.eventId,
    tenantId: i.tenantId,
    target: i.target,
    status: i.status,
    message: i.message,
    failedStep: i.failedStep,
    lastSeq: BigInt(i.lastSeq),
    firstMs: BigInt(i.firstMs),
    lastMs: BigInt(i.lastMs),
  });
}
