import type { AppendTotals, TaggedFrame } from '../../domain/frames';
import type { OperationInfo } from '../../domain/operation-info';
import type { EntryRecord } from '../../domain/records';

/**
 * Another event-log instance, as the engine forwards to it the calls for partitions it owns.
 * Every call is marked forwarded: the owner serves it itself or fails (never forwards again).
 */
export interface Peer {
  /** Stores frames at the owner; resolves once they are durable there. */
  append(frames: TaggedFrame[]): Promise<AppendTotals>;
  /** What the owner knows of an operation (undefined: nothing). */
  info(eventId: string, options?: { timeoutMs?: number }): Promise<OperationInfo | undefined>;
  /** A page of history: entries with seq > afterSeq. */
  read(eventId: string, afterSeq: number, limit: number): Promise<{ info?: OperationInfo; entries: EntryRecord[]; more: boolean }>;
  /** Entries after afterSeq, then live ones, in batches; ends when the owner ends the stream or `signal` aborts. */
  follow(eventId: string, afterSeq: number, signal: AbortSignal): AsyncIterable<EntryRecord[]>;
  close(): void;
}

/** A peer for an instance's gRPC address (the engine keeps one per address). */
export type PeerFactory = (grpcAddress: string) => Peer;
