/** One line of the log view as stored: its text only (the view renders strings). */
export interface LogEntryLike {
  seq: number;
  type: string;
  step?: string;
  text?: string;
  status?: string;
  message?: string;
}

/** How an entry of an operation's timeline reads as one line of the log view. */
export function entryText(e: LogEntryLike): string {
  switch (e.type) {
    case 'line':
      return `[${e.step || '-'}] ${e.text ?? ''}`;
    case 'step_started':
      return `▶ ${e.step}`;
    case 'step_finished':
      return e.status === 'success' ? `✔ ${e.step}` : `✖ ${e.step}: ${e.message ?? ''}`;
    case 'final':
      return `== ${e.status}${e.message ? `: ${e.message}` : ''}`;
    default:
      return `? ${e.type}`;
  }
}

export interface LogStoreOptions {
  /** Lines per chunk: the unit fetched back from history and evicted. */
  chunkSize: number;
  /** Chunks kept in memory at most (memory bound = chunkSize x maxChunks lines). */
  maxChunks: number;
}

/**
 * The lines of one operation's log held by the browser: a million-line log is not kept whole.
 * Row i is the entry with seq i + 1 (every entry is one row). Lines live in fixed-size chunks;
 * at most `maxChunks` are kept, the least recently used going first, never the ones on screen
 * or the live tail; a chunk scrolled to that is not here is fetched back from history (the
 * caller does it: missing() says which, put() stores what came).
 */
export class LogStore {
  private readonly chunks = new Map<number, string[]>();
  /** Highest seq known (the row count). */
  total = 0;
  /** Chunk indexes being fetched (so one scroll asks once). */
  readonly inFlight = new Set<number>();

  constructor(readonly options: LogStoreOptions) {}

  get chunkCount(): number {
    return this.chunks.size;
  }

  private chunkOf(seq: number): number {
    return Math.floor((seq - 1) / this.options.chunkSize);
  }

  private touch(index: number, chunk: string[]): void {
    // A Map iterates in insertion order: re-inserting makes it the most recently used.
    this.chunks.delete(index);
    this.chunks.set(index, chunk);
  }

  /** Stores entries (live or fetched); entries of chunks not kept and not `keep` are dropped again by eviction. */
  put(entries: readonly LogEntryLike[], keep: ReadonlySet<number> = new Set()): void {
    for (const e of entries) {
      if (e.seq > this.total) this.total = e.seq;
      const index = this.chunkOf(e.seq);
      let chunk = this.chunks.get(index);
      if (!chunk) {
        chunk = [];
        this.chunks.set(index, chunk);
      }
      chunk[(e.seq - 1) % this.options.chunkSize] = entryText(e);
    }
    this.evict(new Set([...keep, this.chunkOf(Math.max(1, this.total))]));
  }

  /** The text of row i, or undefined when its chunk is not here (the view shows a placeholder). */
  line(row: number): string | undefined {
    const index = Math.floor(row / this.options.chunkSize);
    const chunk = this.chunks.get(index);
    if (!chunk) return undefined;
    return chunk[row % this.options.chunkSize];
  }

  /** Chunks the rows [from, to] need that are neither here nor being fetched; marks them in flight. */
  missing(from: number, to: number): number[] {
    const out: number[] = [];
    const last = Math.min(to, this.total - 1);
    for (let index = Math.floor(Math.max(0, from) / this.options.chunkSize); index * this.options.chunkSize <= last; index++) {
      const chunk = this.chunks.get(index);
      if (chunk) this.touch(index, chunk);
      else if (!this.inFlight.has(index)) {
        this.inFlight.add(index);
        out.push(index);
      }
    }
    return out;
  }

  /** The seq range of a chunk (what to ask history for: after_seq = first - 1, limit = chunkSize). */
  range(index: number): { afterSeq: number; limit: number } {
    return { afterSeq: index * this.options.chunkSize, limit: this.options.chunkSize };
  }

  /** Keeps at most maxChunks, dropping the least recently used first but never those in `keep`. */
  evict(keep: ReadonlySet<number>): void {
    if (this.chunks.size <= this.options.maxChunks) return;
    for (const index of this.chunks.keys()) {
      if (this.chunks.size <= this.options.maxChunks) break;
      if (!keep.has(index)) this.chunks.delete(index);
    }
  }

  /** The chunk indexes rows [from, to] fall in (to protect them from eviction). */
  chunksOf(from: number, to: number): Set<number> {
    const out = new Set<number>();
    for (let i = Math.floor(Math.max(0, from) / this.options.chunkSize); i <= Math.floor(Math.max(0, to) / this.options.chunkSize); i++) out.add(i);
    return out;
  }
}
