import type { eventsV1 } from '@wharf/contracts';

/**
 * What one partition's log holds, one JSON record per line of history. Short keys: these are
 * written 20,000+ times a second. Records with `s` are timeline entries (seq 1, 2, ... per
 * event id, the offset clients resume from); the others carry state.
 */
interface Base {
  /** event id */
  e: string;
  /** stored at, ms since the epoch */
  t: number;
  /** producer and producer_seq of the frame (retries are recognised by them) */
  p?: string;
  ps?: number;
}

export interface StepStartedRecord extends Base {
  k: 'ss';
  s: number;
  st: string;
}
export interface StepFinishedRecord extends Base {
  k: 'sf';
  s: number;
  st: string;
  ok: boolean;
  m: string;
}
export interface LineRecord extends Base {
  k: 'l';
  s: number;
  /** level (LogLevel value) */
  lv: number;
  st: string;
  x: string;
  /** the producer's time of the line */
  tm: number;
}
export interface FinalRecord extends Base {
  k: 'f';
  s: number;
  ss: eventsV1.OperationStatus;
  m: string;
  fs: string;
}
export type EntryRecord = StepStartedRecord | StepFinishedRecord | LineRecord | FinalRecord;

/** The producer said it reported everything. */
export interface DoneRecord extends Base {
  k: 'd';
}
/** Target stream and tenant of the operation, when first learned. */
export interface MetaRecord extends Base {
  k: 'meta';
  tg: string;
  tn: string;
}
/** OperationStarted ('pubs') or OperationFinished ('pub') is in the event store. */
export interface PublishedRecord extends Base {
  k: 'pub' | 'pubs';
}

export type LogRecord = EntryRecord | DoneRecord | MetaRecord | PublishedRecord;

export function isEntry(r: LogRecord): r is EntryRecord {
  return r.k === 'ss' || r.k === 'sf' || r.k === 'l' || r.k === 'f';
}
