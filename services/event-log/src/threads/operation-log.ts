import type { OperationInfo } from '../domain/operation-info';
import type { Readiness } from '../domain/readiness';
import type { EntryRecord } from '../domain/records';
import type { FollowSink } from '../engine/follow-sink';

/**
 * What the socket.io and HTTP side needs of the event log. The engine lives on the ingest
 * thread; the streaming thread reaches it through the bridge (operation-log-bridge.ts).
 */
export interface OperationLog {
  info(eventId: string): Promise<OperationInfo | undefined>;
  /** A page of history: entries with seq > afterSeq. */
  read(eventId: string, afterSeq: number, limit: number): Promise<{ info?: OperationInfo; entries: EntryRecord[]; more: boolean }>;
  /** Entries after afterSeq, then live ones as they become durable. Returns a cancel. */
  follow(eventId: string, afterSeq: number, sink: FollowSink): () => void;
  listOperations(target: string, cursor: string, limit: number): Promise<{ operations: OperationInfo[]; nextCursor: string }>;
  ownedPartitions(): Promise<number[]>;
  /** Can this instance serve appends for every partition now, and if not, why. */
  readiness(): Promise<Readiness>;
}
