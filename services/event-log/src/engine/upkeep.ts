import type { Logger } from '@wharf/logging';
import type { OperationState, PartitionStore } from '../adapters/storage/partition-store';

export interface UpkeepOptions {
  /** No report for this long -> timeout. */
  operationTimeoutMs: number;
  /** The start-timeout rule, when requests are known (from the feed). */
  start?: { timeoutMs: number; waitingSince: (op: OperationState) => number | undefined };
  retentionBytes: number;
  retentionMs: number;
  partitions: number;
  /** Finished operations quiet for this long drop their hot entries. */
  hotIdleMs: number;
  logger: Logger;
  /** An operation whose timeout decision is durable (publish it). */
  decided: (store: PartitionStore, op: OperationState) => void;
  fatal: (err: Error) => void;
}

/** The periodic work over the partitions open here: timeouts (the final status of silent operations), hot-entry trimming, retention. */
export class Upkeep {
  constructor(private readonly o: UpkeepOptions) {}

  sweep(stores: Iterable<PartitionStore>): void {
    const { o } = this;
    const all = [...stores];
    for (const store of all) {
      const { decided, durable } = store.sweepTimeouts(o.operationTimeoutMs, o.start);
      if (decided.length === 0) continue;
      durable.then(
        () => {
          for (const op of decided) {
            o.logger.info({ event_id: op.eventId, partition: store.partition }, 'operation timed out');
            o.decided(store, op);
          }
        },
        (err) => o.fatal(err as Error),
      );
    }
    for (const store of all) store.trimHot(o.hotIdleMs);
  }

  async retention(stores: Iterable<PartitionStore>): Promise<void> {
    const perPartition = this.o.retentionBytes / Math.max(1, this.o.partitions);
    for (const store of [...stores]) {
      try {
        const removed = await store.enforceRetention(perPartition, this.o.retentionMs);
        if (removed) this.o.logger.info({ partition: store.partition, segments: removed }, 'retention removed old segments');
      } catch (err) {
        this.o.logger.warn({ err, partition: store.partition }, 'retention failed');
      }
    }
  }
}
