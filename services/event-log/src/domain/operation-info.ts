import { eventsV1 } from '@wharf/contracts';
import type { FinalDecision } from './final-status';

/** What is known of an operation, as every reader (gRPC, HTTP, socket.io) shows it. */
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

/** What this instance's storage holds of an operation (the partition's index). */
export interface StoredOperation {
  tenantId: string;
  target: string;
  /** Highest seq on disk. */
  durableSeq: number;
  /** Highest seq assigned, durable or not (a decision is shown once everything up to it is on disk). */
  lastSeq?: number;
  firstMs: number;
  lastMs: number;
  final?: FinalDecision;
}

/** What the event store's feed says of an operation (its request, start and end). */
export interface RequestedOperation {
  tenantId: string;
  target: string;
  requestedMs: number;
  started: boolean;
  finished?: { status: eventsV1.OperationStatus; message: string; failedStep: string; timeMs: number };
}

/** The operation as its owner sees it: storage and feed together; undefined if neither knows it. */
export function operationInfo(eventId: string, stored?: StoredOperation, requested?: RequestedOperation): OperationInfo | undefined {
  if (!stored && !requested) return undefined;
  // A decision made in memory is shown only once the entries leading to it (and its own final
  // entry) are durable: a reader that sees a final status can then read the whole history.
  const storedFinal = stored?.final && stored.durableSeq >= (stored.lastSeq ?? 0) ? stored.final : undefined;
  const final = storedFinal ?? requested?.finished;
  const status = final ? final.status : stored?.durableSeq || requested?.started ? eventsV1.OperationStatus.RUNNING : eventsV1.OperationStatus.PENDING;
  return {
    eventId,
    tenantId: requested?.tenantId || stored?.tenantId || '',
    target: requested?.target || stored?.target || '',
    status,
    message: final?.message ?? '',
    failedStep: final?.failedStep ?? '',
    lastSeq: stored?.durableSeq ?? 0,
    firstMs: stored?.firstMs ?? requested?.requestedMs ?? 0,
    lastMs: stored?.lastMs ?? requested?.requestedMs ?? 0,
  };
}

/** An operation of another instance's partition in a listing: what the feed says (no read of its owner). */
export function requestedInfo(eventId: string, target: string, requested?: RequestedOperation): OperationInfo {
  return {
    eventId,
    tenantId: requested?.tenantId ?? '',
    target,
    status: requested?.finished?.status ?? (requested?.started ? eventsV1.OperationStatus.RUNNING : eventsV1.OperationStatus.PENDING),
    message: requested?.finished?.message ?? '',
    failedStep: requested?.finished?.failedStep ?? '',
    lastSeq: 0,
    firstMs: requested?.requestedMs ?? 0,
    lastMs: requested?.finished?.timeMs ?? requested?.requestedMs ?? 0,
  };
}

/** One page of a listing newest first: `cursor` is the offset a previous page returned ('' = the first page). */
export function pageOf<T>(newestFirst: readonly T[], cursor: string, limit: number): { page: T[]; nextCursor: string } {
  const start = cursor ? Number(cursor) : 0;
  const max = Math.min(limit || 50, 500);
  return { page: newestFirst.slice(start, start + max), nextCursor: start + max < newestFirst.length ? String(start + max) : '' };
}
