import type { RequestedOperation } from '../../domain/operation-info';

/** What event-log knows of an operation from the event store. */
export interface FeedOperation extends RequestedOperation {
  eventId: string;
  kind: number;
  /** Version of OperationRequested in the target stream (where to look for what follows it). */
  requestedVersion: number;
}

/** The operations requested in the event store, as the engine reads them (FeedCatalog, or a fake). */
export interface FeedOperations {
  readonly operations: ReadonlyMap<string, FeedOperation>;
  /** target -> event ids in the order requested */
  readonly byTarget: ReadonlyMap<string, readonly string[]>;
  /** Called after an OperationRequested is folded (live and during catch-up). */
  onRequested?: (op: FeedOperation) => void;
}
