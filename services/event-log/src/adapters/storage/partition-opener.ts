import type { Clock } from '@wharf/system';
import { join } from 'node:path';
import type { OpenReport } from './partition-log';
import { PartitionStore } from './partition-store';

export interface OpenedPartition {
  store: PartitionStore;
  report: OpenReport;
  /** Final entries written again because a crash tore them off. */
  repaired: number;
}

/** Opens (recovers) one partition's store. */
export type PartitionOpener = (partition: number) => Promise<OpenedPartition>;

export interface PartitionOpenerOptions {
  dataDir: string;
  segmentBytes: number;
  hotEntries: number;
  clock: Clock;
  /** Told after every group commit of any partition (metrics). */
  onCommit?: (ms: number, records: number) => void;
}

/** Partition n lives in `<dataDir>/p-NNNN` (shared by every instance of the cluster). */
export function partitionDir(dataDir: string, partition: number): string {
  return join(dataDir, `p-${String(partition).padStart(4, '0')}`);
}

export function partitionOpener(o: PartitionOpenerOptions): PartitionOpener {
  const now = () => o.clock.now();
  return (partition) =>
    PartitionStore.open(partition, partitionDir(o.dataDir, partition), { segmentBytes: o.segmentBytes, hotEntries: o.hotEntries, now, onCommit: o.onCommit });
}
