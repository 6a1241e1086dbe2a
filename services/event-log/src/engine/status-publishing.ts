import type { Logger } from '@wharf/logging';
import type { StatusPublisher } from '../adapters/event-store/status-publisher';
import type { FeedOperations } from '../adapters/feed/feed-operations';
import type { OperationState, PartitionStore } from '../adapters/storage/partition-store';

export interface StatusPublishingOptions {
  publisher: StatusPublisher;
  feed: FeedOperations;
  /** Is the store still the one open for its partition (a moved partition is published by its new owner)? */
  isCurrent: (store: PartitionStore) => boolean;
  logger: Logger;
  /** Waits between retries (injected so tests need not wait). */
  sleep?: (ms: number) => Promise<void>;
}

const sleepUnref = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Publishes what the event store still lacks of each operation of the partitions open here:
 * OperationStarted once something reported, then OperationFinished once the final entry is
 * durable; each recorded in the partition ('pubs'/'pub') so a restart does not publish again.
 * One loop per operation at a time; a decision made while it runs triggers another pass.
 */
export class StatusPublishing {
  private readonly publishing = new Set<string>();
  private readonly republish = new Set<string>();
  private stopped = false;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: StatusPublishingOptions) {
    this.sleep = o.sleep ?? sleepUnref;
  }

  /** Starts publishing in the background what this operation still lacks (nothing if nothing). */
  kick(store: PartitionStore, op: OperationState): void {
    if (this.stopped) return;
    if ((op.startedPublished || neverReported(op)) && (op.published || !finalDurable(op))) return;
    if (this.publishing.has(op.eventId)) {
      this.republish.add(op.eventId);
      return;
    }
    this.publishing.add(op.eventId);
    void this.publishLoop(store, op).finally(() => {
      this.publishing.delete(op.eventId);
      if (this.republish.delete(op.eventId) && this.o.isCurrent(store)) this.kick(store, op);
    });
  }

  /** Kicks every operation of a partition just opened (what a previous owner did not finish). */
  kickAll(store: PartitionStore): void {
    for (const op of store.ops.values()) this.kick(store, op);
  }

  stop(): void {
    this.stopped = true;
  }

  private async publishLoop(store: PartitionStore, op: OperationState): Promise<void> {
    const { publisher, feed, logger } = this.o;
    let delay = 200;
    while (!this.stopped && this.o.isCurrent(store)) {
      const f = feed.operations.get(op.eventId);
      const target = f?.target || op.target;
      // Without a target there is no stream to append to: the feed's OperationRequested kicks again when it appears.
      if (!target) return;
      const from = f?.requestedVersion ?? 1;
      try {
        if (!op.startedPublished && !neverReported(op)) {
          if (!f?.started && (await publisher.started(target, from, op.eventId)) === 'no-stream') return noStream(logger, op, target);
          await store.markPublished(op, 'pubs');
        }
        if (finalDurable(op) && !op.published) {
          if (!f?.finished && (await publisher.finished(target, from, op.eventId, op.final!)) === 'no-stream') return noStream(logger, op, target);
          await store.markPublished(op, 'pub');
        }
        return;
      } catch (err) {
        logger.warn({ err, event_id: op.eventId }, 'publishing to the event store failed; retrying');
        await this.sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }
}

/** Nothing was ever reported (no entry, or only the final one): there is no OperationStarted to publish. */
function neverReported(op: OperationState): boolean {
  return op.lastSeq === 0 || op.finalSeq === 1;
}

function finalDurable(op: OperationState): boolean {
  return !!op.final && op.finalSeq > 0 && op.finalSeq <= op.durableSeq;
}

function noStream(logger: Logger, op: OperationState, target: string): void {
  logger.warn({ event_id: op.eventId, target }, 'target stream does not exist; status kept in event-log only');
}
