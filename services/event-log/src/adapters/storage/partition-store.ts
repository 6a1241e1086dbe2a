import type { IngestFrame } from '../../domain/frames';
import { finalStatus, foldReport, newProgress, type FinalDecision, type OperationProgress, type ReportBody } from '../../domain/final-status';
import { isEntry, type EntryRecord, type LogRecord } from '../../domain/records';
import { PartitionLog, type OpenReport, type RecordLocation } from './partition-log';
import { HotEntries } from './hot-entries';

/** Called with entries of one operation once they are durable, in seq order, never twice. */
export type EntryListener = (entries: EntryRecord[]) => void;

/** Everything the index knows about one operation (event id) of this partition. */
export class OperationState {
  target = '';
  tenantId = '';
  /** Highest seq assigned (may not be durable yet). */
  lastSeq = 0;
  /** Highest seq on disk: readers and listeners never see past it. */
  durableSeq = 0;
  /** Lowest seq still stored (retention removes old segments whole). */
  firstSeq = 1;
  /** Location of entry seq (firstSeq + i); parallel arrays keep the index small. */
  readonly locSegment: number[] = [];
  readonly locOffset: number[] = [];
  readonly locLength: number[] = [];
  /** The latest durable entries, for catch-up without a disk read. */
  readonly hot = new HotEntries();
  readonly producers = new Map<string, number>();
  readonly progress: OperationProgress = newProgress();
  /** seq of the final entry once written (0 = no final entry yet). */
  finalSeq = 0;
  published = false;
  startedPublished = false;
  firstMs = 0;
  lastMs = 0;

  constructor(readonly eventId: string) {}

  get final(): FinalDecision | undefined {
    return this.progress.final;
  }

  location(seq: number): RecordLocation | undefined {
    const i = seq - this.firstSeq;
    if (i < 0 || i >= this.locSegment.length) return undefined;
    return { segment: this.locSegment[i], offset: this.locOffset[i], length: this.locLength[i] };
  }
}

export interface PartitionStoreOptions {
  segmentBytes: number;
  /** Entries kept in memory per operation for catch-up. */
  hotEntries: number;
  now?: () => number;
  onCommit?: (ms: number, records: number) => void;
}

export interface AppendOutcome {
  accepted: number;
  duplicates: number;
  /** Resolves once every record of this call is on disk (and listeners have been told). */
  durable: Promise<void>;
  /** Operations whose final status this call decided. */
  decided: OperationState[];
  /** Operations that received their first frame in this call. */
  started: OperationState[];
}

/**
 * One partition: its log plus the in-memory index rebuilt from it on open (by event id, by
 * target). Sequence numbers are assigned when frames arrive; entries become visible to readers
 * and listeners only after the group commit that made them durable.
 */
export class PartitionStore {
  readonly ops = new Map<string, OperationState>();
  readonly byTarget = new Map<string, Set<string>>();
  private readonly listeners = new Map<string, Set<EntryListener>>();
  private readonly now: () => number;

  private constructor(
    readonly partition: number,
    readonly log: PartitionLog,
    private readonly options: PartitionStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  static async open(partition: number, dir: string, options: PartitionStoreOptions): Promise<{ store: PartitionStore; report: OpenReport; repaired: number }> {
    const ops = new Map<string, OperationState>();
    const finalRecords = new Map<string, EntryRecord>();
    const { log, report } = await PartitionLog.open<LogRecord>(
      dir,
      { segmentBytes: options.segmentBytes, now: options.now, onCommit: options.onCommit },
      (r, loc) => {
        let op = ops.get(r.e);
        if (!op) ops.set(r.e, (op = new OperationState(r.e)));
        if (!op.firstMs) op.firstMs = r.t;
        if (r.p && r.ps) op.producers.set(r.p, Math.max(op.producers.get(r.p) ?? 0, r.ps));
        if (isEntry(r)) {
          // A seq gap means a damaged segment was skipped: keep the index dense from the new first seq.
          if (r.s !== op.lastSeq + 1 && op.locSegment.length === 0) op.firstSeq = r.s;
          else if (r.s !== op.lastSeq + 1) return;
          op.locSegment.push(loc.segment);
          op.locOffset.push(loc.offset);
          op.locLength.push(loc.length);
          op.lastSeq = op.durableSeq = r.s;
          op.lastMs = r.t;
          if (r.k === 'f') {
            finalRecords.set(r.e, r);
            op.finalSeq = r.s;
          } else {
            const body = reportOf(r);
            if (body) replayReport(op.progress, body);
          }
        } else if (r.k === 'd') {
          op.lastMs = r.t;
          replayReport(op.progress, { kind: 'done' });
        } else if (r.k === 'meta') {
          op.target ||= r.tg;
          op.tenantId ||= r.tn;
          // An operation adopted before it reported: its clock starts at the request.
          if (!op.lastMs) op.lastMs = r.t;
        } else if (r.k === 'pub') op.published = true;
        else if (r.k === 'pubs') op.startedPublished = true;
      },
    );
    const store = new PartitionStore(partition, log, options);
    for (const op of ops.values()) {
      store.ops.set(op.eventId, op);
      if (op.target) store.indexTarget(op);
      // The stored final is what was decided and announced; it wins over a re-fold.
      const f = finalRecords.get(op.eventId);
      if (f && f.k === 'f') op.progress.final = { status: f.ss as FinalDecision['status'], message: f.m, failedStep: f.fs };
    }
    // A decision whose final entry was torn off by a crash is written now (it was never acked).
    let repaired = 0;
    const missing = [...ops.values()].filter((op) => op.progress.final && op.finalSeq === 0);
    if (missing.length) {
      repaired = missing.length;
      await store.writeFinals(missing).durable;
    }
    return { store, report, repaired };
  }

  get(eventId: string): OperationState | undefined {
    return this.ops.get(eventId);
  }

  /** Stores frames (already validated, all of this partition). */
  append(frames: IngestFrame[]): AppendOutcome {
    const now = this.now();
    const records: LogRecord[] = [];
    const touched = new Map<OperationState, EntryRecord[]>();
    const decided: OperationState[] = [];
    const started: OperationState[] = [];
    let accepted = 0;
    let duplicates = 0;
    for (const f of frames) {
      let op = this.ops.get(f.eventId);
      if (!op) {
        this.ops.set(f.eventId, (op = new OperationState(f.eventId)));
        op.firstMs = now;
      }
      // Its first report (also of an operation adopted from the event store before it reported).
      if (op.lastSeq === 0 && !started.includes(op)) started.push(op);
      if (f.producer && f.producerSeq > 0) {
        if (f.producerSeq <= (op.producers.get(f.producer) ?? 0)) {
          duplicates++;
          continue;
        }
        op.producers.set(f.producer, f.producerSeq);
      }
      accepted++;
      if ((f.target && !op.target) || (f.tenantId && !op.tenantId)) {
        op.target ||= f.target;
        op.tenantId ||= f.tenantId;
        this.indexTarget(op);
        records.push({ k: 'meta', e: op.eventId, t: now, tg: op.target, tn: op.tenantId });
      }
      const base = { e: op.eventId, t: now, ...(f.producer && f.producerSeq > 0 ? { p: f.producer, ps: f.producerSeq } : {}) };
      op.lastMs = now;
      let record: LogRecord;
      const b = f.body;
      switch (b.kind) {
        case 'step_started':
          record = { ...base, k: 'ss', s: ++op.lastSeq, st: b.step };
          break;
        case 'step_finished':
          record = { ...base, k: 'sf', s: ++op.lastSeq, st: b.step, ok: b.ok, m: b.message };
          break;
        case 'line':
          record = { ...base, k: 'l', s: ++op.lastSeq, lv: b.level, st: b.step, x: b.text, tm: b.timeMs || now };
          break;
        case 'done':
          record = { ...base, k: 'd' };
          break;
      }
      this.push(records, touched, op, record);
      // Lines never decide anything (and are most of the traffic); a decided operation stays decided.
      if (b.kind !== 'line' && !op.progress.final) {
        foldReport(op.progress, b);
        const decision = finalStatus(op.progress);
        if (decision) {
          op.progress.final = decision;
          this.push(records, touched, op, this.finalRecord(op, decision, now));
          decided.push(op);
        }
      }
    }
    const durable = this.commit(records, touched);
    return { accepted, duplicates, durable, decided, started };
  }

  /**
   * Operations silent for timeoutMs get their timeout decision written; so do operations that
   * never reported, startTimeoutMs after waitingSince(op) (undefined: still queued, no clock).
   * Returns them.
   */
  sweepTimeouts(
    timeoutMs: number,
    start?: { timeoutMs: number; waitingSince: (op: OperationState) => number | undefined },
  ): { decided: OperationState[]; durable: Promise<void> } {
    const now = this.now();
    const decided: OperationState[] = [];
    for (const op of this.ops.values()) {
      if (op.progress.final) continue;
      const reported = op.lastSeq > 0;
      if (!reported && !start) continue;
      const decision = finalStatus(op.progress, {
        nowMs: now,
        timeoutMs,
        lastReportMs: reported ? op.lastMs : undefined,
        waitingSinceMs: reported ? undefined : start?.waitingSince(op),
        startTimeoutMs: start?.timeoutMs,
      });
      if (!decision) continue;
      op.progress.final = decision;
      decided.push(op);
    }
    return decided.length ? { decided, durable: this.writeFinals(decided).durable } : { decided, durable: Promise.resolve() };
  }

  /** Records that OperationStarted/OperationFinished reached the event store (no re-publish after a restart). */
  markPublished(op: OperationState, kind: 'pub' | 'pubs'): Promise<void> {
    if (kind === 'pub') op.published = true;
    else op.startedPublished = true;
    return this.log.append([{ k: kind, e: op.eventId, t: this.now() }]).durable;
  }

  /**
   * Indexes an operation requested in the event store that has not reported yet (its meta is
   * written, so it survives a restart), so that it times out if nothing ever picks it up.
   * undefined if the operation is already known here.
   */
  adopt(eventId: string, target: string, tenantId: string, requestedMs: number): Promise<void> | undefined {
    if (this.ops.has(eventId)) return undefined;
    const op = new OperationState(eventId);
    op.target = target;
    op.tenantId = tenantId;
    op.firstMs = op.lastMs = requestedMs;
    this.ops.set(eventId, op);
    this.indexTarget(op);
    return this.log.append([{ k: 'meta', e: eventId, t: requestedMs, tg: target, tn: tenantId }]).durable;
  }

  /** Writes target/tenant learned from the event store's feed, so they survive without it. */
  setMeta(op: OperationState, target: string, tenantId: string): Promise<void> | undefined {
    if ((!target || op.target) && (!tenantId || op.tenantId)) return undefined;
    op.target ||= target;
    op.tenantId ||= tenantId;
    this.indexTarget(op);
    return this.log.append([{ k: 'meta', e: op.eventId, t: this.now(), tg: op.target, tn: op.tenantId }]).durable;
  }

  /**
   * Entries with seq in (afterSeq, upTo] straight from memory, or undefined when some of them
   * are no longer in the hot cache (read() them). Synchronous: what a subscriber joining the
   * live stream needs to close the last gap without yielding.
   */
  readHot(eventId: string, afterSeq: number, upTo: number): EntryRecord[] | undefined {
    const op = this.ops.get(eventId);
    if (!op || afterSeq >= upTo) return [];
    const from = Math.max(afterSeq + 1, op.firstSeq);
    if (from > upTo) return [];
    if (from > op.durableSeq) return [];
    return op.hot.slice(from, upTo);
  }

  /** Up to `limit` durable entries after afterSeq (and at most up to upTo). */
  async read(eventId: string, afterSeq: number, limit: number, upTo?: number): Promise<EntryRecord[]> {
    const op = this.ops.get(eventId);
    if (!op) return [];
    const last = Math.min(upTo ?? op.durableSeq, op.durableSeq, Math.max(afterSeq, op.firstSeq - 1) + limit);
    const hot = this.readHot(eventId, afterSeq, last);
    if (hot) return hot;
    const locations: RecordLocation[] = [];
    for (let s = Math.max(afterSeq + 1, op.firstSeq); s <= last; s++) {
      const loc = op.location(s);
      if (loc) locations.push(loc);
    }
    return this.log.readMany<EntryRecord>(locations);
  }

  /** Listens to one operation's durable entries (the operation need not exist yet). */
  listen(eventId: string, listener: EntryListener): () => void {
    let set = this.listeners.get(eventId);
    if (!set) this.listeners.set(eventId, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0 && this.listeners.get(eventId) === set) this.listeners.delete(eventId);
    };
  }

  durableSeq(eventId: string): number {
    return this.ops.get(eventId)?.durableSeq ?? 0;
  }

  /** Applies retention; operations left without entries and finished are forgotten. */
  async enforceRetention(maxBytes: number, maxAgeMs: number): Promise<number> {
    const removed = await this.log.enforceRetention(maxBytes, maxAgeMs);
    if (removed.length === 0) return 0;
    const gone = new Set(removed);
    for (const op of [...this.ops.values()]) {
      let n = 0;
      while (n < op.locSegment.length && gone.has(op.locSegment[n])) n++;
      if (n > 0) {
        op.locSegment.splice(0, n);
        op.locOffset.splice(0, n);
        op.locLength.splice(0, n);
        op.firstSeq += n;
        op.hot.dropBefore(op.firstSeq);
      }
      if (op.locSegment.length === 0 && op.progress.final && op.published && !this.listeners.has(op.eventId)) {
        this.ops.delete(op.eventId);
        this.byTarget.get(op.target)?.delete(op.eventId);
      }
    }
    return removed.length;
  }

  /** Drops the hot entries of operations that finished and went quiet (memory). */
  trimHot(idleMs: number): void {
    const cutoff = this.now() - idleMs;
    for (const op of this.ops.values()) if (op.hot.length && op.progress.final && op.lastMs < cutoff && !this.listeners.has(op.eventId)) op.hot.clear();
  }

  close(): Promise<void> {
    return this.log.close();
  }

  private writeFinals(ops: OperationState[]): { durable: Promise<void> } {
    const now = this.now();
    const records: LogRecord[] = [];
    const touched = new Map<OperationState, EntryRecord[]>();
    for (const op of ops) if (op.progress.final && op.finalSeq === 0) this.push(records, touched, op, this.finalRecord(op, op.progress.final, now));
    return { durable: this.commit(records, touched) };
  }

  private finalRecord(op: OperationState, d: FinalDecision, now: number): EntryRecord {
    op.finalSeq = ++op.lastSeq;
    return { k: 'f', e: op.eventId, t: now, s: op.finalSeq, ss: d.status, m: d.message, fs: d.failedStep };
  }

  private push(records: LogRecord[], touched: Map<OperationState, EntryRecord[]>, op: OperationState, record: LogRecord): void {
    records.push(record);
    if (!isEntry(record)) return;
    let list = touched.get(op);
    if (!list) touched.set(op, (list = []));
    list.push(record);
  }

  private commit(records: LogRecord[], touched: Map<OperationState, EntryRecord[]>): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const { locations, encoded, durable } = this.log.append(records);
    // Where each entry is in `records` (and so in locations and encoded).
    const index = new Map<EntryRecord, number>();
    records.forEach((r, i) => isEntry(r) && index.set(r, i));
    for (const [op, entries] of touched) {
      for (const e of entries) {
        const loc = locations[index.get(e)!];
        op.locSegment.push(loc.segment);
        op.locOffset.push(loc.offset);
        op.locLength.push(loc.length);
      }
    }
    return durable.then(() => {
      const cap = this.options.hotEntries;
      for (const [op, entries] of touched) {
        op.durableSeq = entries[entries.length - 1].s;
        for (const e of entries) op.hot.push(e.s, encoded[index.get(e)!]);
        if (op.hot.length > cap * 2) op.hot.keepLast(cap);
        const ls = this.listeners.get(op.eventId);
        if (ls) for (const l of [...ls]) l(entries);
      }
    });
  }

  private indexTarget(op: OperationState): void {
    if (!op.target) return;
    let set = this.byTarget.get(op.target);
    if (!set) this.byTarget.set(op.target, (set = new Set()));
    set.add(op.eventId);
  }
}

/** As append() decides: in order, and nothing after the decision counts. */
function replayReport(progress: OperationProgress, body: ReportBody): void {
  if (progress.final) return;
  foldReport(progress, body);
  progress.final = finalStatus(progress);
}

function reportOf(r: EntryRecord): ReportBody | undefined {
  switch (r.k) {
    case 'ss':
      return { kind: 'step_started', step: r.st };
    case 'sf':
      return { kind: 'step_finished', step: r.st, ok: r.ok, message: r.m };
    case 'l':
      return { kind: 'line' };
    case 'f':
      return undefined;
  }
}
