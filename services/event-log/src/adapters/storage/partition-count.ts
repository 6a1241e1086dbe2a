import { FailedPreconditionError, WharfError } from '@wharf/errors';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = 'partitions.json';
const PARTITION_DIR = /^p-(\d{4})$/;

/** The reason of the FailedPreconditionError when the data dir was written with another partition count: its entries would hash elsewhere. */
export const PARTITION_COUNT_MISMATCH = 'partition_count_mismatch';

export function isPartitionCountMismatch(err: unknown): err is FailedPreconditionError {
  return err instanceof WharfError && err.code === 'failed_precondition' && err.reason === PARTITION_COUNT_MISMATCH;
}

function mismatch(message: string): FailedPreconditionError {
  return new FailedPreconditionError(message, { reason: PARTITION_COUNT_MISMATCH });
}

/** Partitions of a data dir created without WHARF_EVENTLOG_PARTITIONS. */
export const DEFAULT_PARTITIONS = 4;
/** The default before the count was recorded in the data dir (what such a dir was made with, unless set). */
const LEGACY_DEFAULT_PARTITIONS = 16;

/**
 * The partition count of the data dir, recorded on first use; any other count is refused later:
 * event ids hash into partitions, so a changed count would silently orphan stored operations.
 * `requested` undefined: the recorded count, or DEFAULT_PARTITIONS for a new dir. Fewer
 * partitions, fewer durable writes: a batch of lines over many operations costs one O_DSYNC
 * write per partition it touches; more partitions, finer spreading over instances.
 * Safe for several instances starting at once (exclusive create; the loser compares).
 */
export async function claimPartitionCount(dataDir: string, requested?: number): Promise<number> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, FILE);
  const fix = `set WHARF_EVENTLOG_PARTITIONS to the count the data dir was created with, or point WHARF_EVENTLOG_DATA_DIR at another directory`;
  const recorded = await readRecorded(path);
  // Data written before the count was recorded: the partition directories tell the least it was.
  const dirs = (await readdir(dataDir))
    .map((n) => PARTITION_DIR.exec(n)?.[1])
    .filter((x): x is string => !!x)
    .map(Number);
  const highest = dirs.length ? Math.max(...dirs) : -1;
  const partitions = requested ?? recorded ?? (highest >= 0 ? LEGACY_DEFAULT_PARTITIONS : DEFAULT_PARTITIONS);
  if (highest >= partitions) throw mismatch(`WHARF_EVENTLOG_PARTITIONS is ${partitions} but ${dataDir} holds partition ${highest}: ${fix}`);
  if (recorded === undefined) {
    try {
      await writeFile(path, `${JSON.stringify({ partitions })}\n`, { flag: 'wx' });
      return partitions;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  // Recorded before, or by an instance starting at the same time.
  const count = recorded ?? (await readRecorded(path));
  if (count !== partitions) throw mismatch(`WHARF_EVENTLOG_PARTITIONS is ${partitions} but ${dataDir} was created with ${String(count)} partitions: ${fix}`);
  return partitions;
}

/** The recorded count, undefined if none is recorded yet. */
async function readRecorded(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let recorded: unknown;
  try {
    recorded = (JSON.parse(text) as { partitions?: unknown }).partitions;
  } catch {
    recorded = undefined;
  }
  if (!Number.isSafeInteger(recorded) || (recorded as number) < 1) throw mismatch(`${path} is not readable JSON ({"partitions": N}): repair or remove it`);
  return recorded as number;
}
