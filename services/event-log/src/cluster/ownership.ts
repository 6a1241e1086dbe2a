/** Where a partition lives right now. */
export type PartitionOwner = { local: true } | { local: false; instance: string; grpc: string } | undefined;

/**
 * Which instance owns which partition. The engine asks it for every call; it tells the engine
 * when this instance must open (acquire) or close (release) a partition.
 */
export interface Ownership {
  owner(partition: number): PartitionOwner;
  start(handlers: { acquire(partition: number): Promise<void>; release(partition: number): Promise<void> }): Promise<void>;
  stop(): Promise<void>;
}

/** One instance owns every partition (no etcd coordination; tests and the embedded default). */
export class SoleOwnership implements Ownership {
  constructor(private readonly partitions: number) {}

  owner(): PartitionOwner {
    return { local: true };
  }

  async start(handlers: { acquire(partition: number): Promise<void> }): Promise<void> {
    for (let p = 0; p < this.partitions; p++) await handlers.acquire(p);
  }

  async stop(): Promise<void> {}
}
