import type { SlotOwner } from '@wharf/etcd';

/** Where a partition lives right now. */
export type PartitionOwner = SlotOwner;

/**
 * Which instance owns which partition. The engine asks it for every call; it tells the engine
 * when this instance must open (acquire) or close (release) a partition.
 */
export interface Ownership {
  owner(partition: number): PartitionOwner;
  /** What keeps ownership from being known right now (e.g. etcd cannot be reached), or undefined. */
  problem(): string | undefined;
  start(handlers: { acquire(partition: number): Promise<void>; release(partition: number): Promise<void> }): Promise<void>;
  stop(): Promise<void>;
}

/** One instance owns every partition (no etcd coordination; tests and the embedded default). */
export class SoleOwnership implements Ownership {
  constructor(private readonly partitions: number) {}

  owner(): PartitionOwner {
    return { local: true };
  }

  problem(): string | undefined {
    return undefined;
  }

  async start(handlers: { acquire(partition: number): Promise<void> }): Promise<void> {
    for (let p = 0; p < this.partitions; p++) await handlers.acquire(p);
  }

  async stop(): Promise<void> {}
}
