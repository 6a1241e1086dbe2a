import { HEADER_BYTES } from './record-codec';
import type { EntryRecord } from '../../domain/records';

const EMPTY = Buffer.alloc(0);

/**
 * The latest durable entries of one operation (consecutive seqs), kept as their encoded JSON
 * in one buffer and decoded only when read (catch-up).
 *
 * Why not the entry objects: each kept entry was several heap objects (the record and its
 * strings) that every major garbage collection of the ingest thread had to mark. After a burst
 * over thousands of operations (the ingest bench: 250,000 lines in 5 s), that was 90-110 MB
 * live and major collections that paused the thread for up to 60 ms (plus marking steps of up
 * to 40 ms), stalling acknowledgements and the live streams behind them. Here an operation costs a few objects however many entries it keeps;
 * the bytes sit outside the JavaScript heap.
 */
export class HotEntries {
  private bytes: Buffer = EMPTY;
  /** Byte offset where the first kept entry starts. */
  private start = 0;
  /** ends[i]: byte offset where entry firstSeq + i ends (it starts where the one before ends). */
  private ends: number[] = [];
  /** Seq of the first entry kept. */
  firstSeq = 0;

  get length(): number {
    return this.ends.length;
  }

  /** Appends entry `seq`, given its record as encoded for the log (header + JSON). A seq that does not follow the last one starts the cache over. */
  push(seq: number, record: Buffer): void {
    if (this.ends.length > 0 && seq !== this.firstSeq + this.ends.length) this.clear();
    if (this.ends.length === 0) this.firstSeq = seq;
    const json = record.subarray(HEADER_BYTES);
    if (this.end() + json.length > this.bytes.length) this.rebase(Math.max(256, (this.end() - this.start + json.length) * 2));
    const at = this.end();
    json.copy(this.bytes, at);
    this.ends.push(at + json.length);
  }

  /** Entries with seq in [from, to] (clamped to what is kept), or undefined if `from` is before the first kept. */
  slice(from: number, to: number): EntryRecord[] | undefined {
    if (this.ends.length === 0 || from < this.firstSeq) return undefined;
    const out: EntryRecord[] = [];
    const last = Math.min(to, this.firstSeq + this.ends.length - 1);
    for (let seq = from; seq <= last; seq++) {
      const i = seq - this.firstSeq;
      const begin = i === 0 ? this.start : this.ends[i - 1];
      out.push(JSON.parse(this.bytes.toString('utf8', begin, this.ends[i])) as EntryRecord);
    }
    return out;
  }

  /** Keeps only the last n entries. */
  keepLast(n: number): void {
    if (this.ends.length > n) this.dropFirst(this.ends.length - n);
  }

  /** Drops the entries before seq (gone by retention). */
  dropBefore(seq: number): void {
    if (this.ends.length && seq > this.firstSeq) this.dropFirst(Math.min(this.ends.length, seq - this.firstSeq));
  }

  clear(): void {
    this.bytes = EMPTY;
    this.start = 0;
    this.ends = [];
  }

  private dropFirst(count: number): void {
    if (count >= this.ends.length) return this.clear();
    this.start = this.ends[count - 1];
    this.ends = this.ends.slice(count);
    this.firstSeq += count;
    // Compact once the dropped bytes outweigh the kept ones, so memory stays within about twice what is kept.
    if (this.start > this.end() - this.start) this.rebase(Math.max(256, (this.end() - this.start) * 2));
  }

  /** Byte offset where the kept entries end. */
  private end(): number {
    return this.ends.length ? this.ends[this.ends.length - 1] : this.start;
  }

  /** Moves the kept entries to the start of a new buffer of `capacity` bytes. */
  private rebase(capacity: number): void {
    const next = Buffer.allocUnsafeSlow(capacity);
    this.bytes.copy(next, 0, this.start, this.end());
    const start = this.start;
    this.ends = this.ends.map((e) => e - start);
    this.start = 0;
    this.bytes = next;
  }
}
