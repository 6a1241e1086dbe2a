import type { FeedOperation, FeedOperations } from '../adapters/feed/feed-operations';
import type { OperationState, PartitionStore } from '../adapters/storage/partition-store';
import { waitingSince } from '../domain/final-status';

export interface FeedAdoptionOptions {
  feed: FeedOperations;
  partitionOf: (eventId: string) => number;
  /** The open store of a partition here, if any. */
  store: (partition: number) => PartitionStore | undefined;
  /** Publishing what an operation lacks, now that its target may be known. */
  kick: (store: PartitionStore, op: OperationState) => void;
  fatal: (err: Error) => void;
}

/**
 * Operations requested in the event store that never reported here: indexed in their
 * partition (meta record) so they time out "never started" if nothing ever picks them up,
 * and their target and tenant recorded for those that reported before the feed told us.
 */
export class FeedAdoption {
  constructor(private readonly o: FeedAdoptionOptions) {
    o.feed.onRequested = (op) => this.onRequested(op);
  }

  /** Adopts the partition's requested operations that never reported (a partition just opened here). */
  adoptUnreported(store: PartitionStore): void {
    // Finished is checked first: most of the history is finished, and hashing every event id
    // of it on each partition's opening would only slow the start.
    for (const f of this.o.feed.operations.values())
      if (!f.finished && this.o.partitionOf(f.eventId) === store.partition && !store.get(f.eventId)) this.adopt(store, f);
  }

  /** See waitingSince(): the clock of a never-reported operation, from the feed's order per target. */
  waitingSince(op: OperationState): number | undefined {
    const { feed } = this.o;
    const f = feed.operations.get(op.eventId);
    if (!f) return op.firstMs;
    const ids = feed.byTarget.get(f.target) ?? [];
    const i = ids.indexOf(op.eventId);
    const before = i > 0 ? feed.operations.get(ids[i - 1]) : undefined;
    return waitingSince(f.requestedMs, before && { finishedMs: before.finished?.timeMs });
  }

  private onRequested(f: FeedOperation): void {
    const store = this.o.store(this.o.partitionOf(f.eventId));
    if (!store) return;
    const op = store.get(f.eventId);
    if (!op) return this.adopt(store, f);
    store.setMeta(op, f.target, f.tenantId)?.catch((err) => this.o.fatal(err as Error));
    this.o.kick(store, op);
  }

  private adopt(store: PartitionStore, f: FeedOperation): void {
    // Finished ones are history (their log may be gone by retention): nothing to watch.
    if (f.finished) return;
    store.adopt(f.eventId, f.target, f.tenantId, f.requestedMs)?.catch((err) => this.o.fatal(err as Error));
  }
}
