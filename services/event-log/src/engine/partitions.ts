import type { Logger } from '@wharf/logging';
import type { Clock } from '@wharf/system';
import type { PartitionOpener } from '../adapters/storage/partition-opener';
import type { PartitionStore } from '../adapters/storage/partition-store';

/**
 * The partitions open on this instance: opened when ownership hands one over (acquire),
 * closed when it moves away (release). Openings of one partition are shared; a store is
 * visible to calls only once it is open.
 */
export class Partitions {
  private readonly stores = new Map<number, PartitionStore>();
  private readonly opening = new Map<number, Promise<PartitionStore>>();
  /** Told when a partition has opened here, before acquire() resolves (publishing, adoption). */
  onOpened: (store: PartitionStore) => void = () => undefined;
  /** Told when a partition is about to close here (its follows end). */
  onClosing: (partition: number) => void = () => undefined;

  constructor(
    private readonly open: PartitionOpener,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async acquire(partition: number): Promise<void> {
    if (this.stores.has(partition)) return;
    let opening = this.opening.get(partition);
    if (!opening) {
      opening = this.openNow(partition);
      this.opening.set(partition, opening);
    }
    try {
      await opening;
    } finally {
      this.opening.delete(partition);
    }
  }

  async release(partition: number): Promise<void> {
    const store = this.stores.get(partition);
    if (!store) return;
    this.stores.delete(partition);
    this.onClosing(partition);
    await store.close();
    this.logger.info({ partition }, 'partition released');
  }

  async releaseAll(): Promise<void> {
    for (const p of [...this.stores.keys()]) await this.release(p);
  }

  /** The open store of a partition. */
  get(partition: number): PartitionStore | undefined {
    return this.stores.get(partition);
  }

  /** The store of a partition, waiting for it if it is being opened; undefined if it is neither. */
  async ready(partition: number): Promise<PartitionStore | undefined> {
    return this.stores.get(partition) ?? this.opening.get(partition);
  }

  isOpen(partition: number): boolean {
    return this.stores.has(partition);
  }

  /** Is this the store open for its partition now (not one closed since)? */
  isCurrent(store: PartitionStore): boolean {
    return this.stores.get(store.partition) === store;
  }

  owned(): number[] {
    return [...this.stores.keys()].sort((a, b) => a - b);
  }

  all(): IterableIterator<PartitionStore> {
    return this.stores.values();
  }

  private async openNow(partition: number): Promise<PartitionStore> {
    const started = this.clock.now();
    const { store, report, repaired } = await this.open(partition);
    if (report.truncatedBytes || report.damagedSegments.length || repaired)
      this.logger.warn({ partition, ...report, repaired }, 'partition recovered from a damaged tail');
    this.logger.info(
      { partition, ms: this.clock.now() - started, records: report.records, segments: report.segments, operations: store.ops.size },
      'partition opened',
    );
    this.stores.set(partition, store);
    this.onOpened(store);
    return store;
  }
}
