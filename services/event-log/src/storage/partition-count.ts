import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = 'partitions.json';
const PARTITION_DIR = /^p-(\d{4})$/;

/** The data dir was written with another partition count: its entries would hash elsewhere. */
export class PartitionCountMismatch extends Error {}

/**
 * Records the partition count in the data dir on first use and refuses any other count later:
 * event ids hash into partitions, so a changed count would silently orphan stored operations.
 * Safe for several instances starting at once (exclusive create; the loser compares).
 */
export async function claimPartitionCount(dataDir: string, partitions: number): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, FILE);
  const fix = `set WHARF_EVENTLOG_PARTITIONS to the count the data dir was created with, or point WHARF_EVENTLOG_DATA_DIR at another directory`;
  // Data written before the count was recorded: the partition directories tell the least it was.
  const dirs = (await readdir(dataDir)).map((n) => PARTITION_DIR.exec(n)?.[1]).filter((x): x is string => !!x).map(Number);
  const highest = dirs.length ? Math.max(...dirs) : -1;
  if (highest >= partitions) throw new PartitionCountMismatch(`WHARF_EVENTLOG_PARTITIONS is ${partitions} but ${dataDir} holds partition ${highest}: ${fix}`);
  try {
    await writeFile(path, `${JSON.stringify({ partitions })}\n`, { flag: 'wx' });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  let recorded: unknown;
  try {
    recorded = (JSON.parse(await readFile(path, 'utf8')) as { partitions?: unknown }).partitions;
  } catch {
    throw new PartitionCountMismatch(`${path} is not readable JSON ({"partitions": N}): repair or remove it`);
  }
  if (recorded !== partitions) throw new PartitionCountMismatch(`WHARF_EVENTLOG_PARTITIONS is ${partitions} but ${dataDir} was created with ${String(recorded)} partitions: ${fix}`);
}
