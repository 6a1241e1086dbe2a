import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimPartitionCount, DEFAULT_PARTITIONS, isPartitionCountMismatch } from './partition-count';

describe('partition count of a data dir', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'wharf-pcount-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is recorded on first use and accepted again, also by instances starting at once', async () => {
    await expect(Promise.all([claimPartitionCount(dir, 16), claimPartitionCount(dir, 16), claimPartitionCount(dir, 16)])).resolves.toEqual([16, 16, 16]);
    expect(JSON.parse(readFileSync(join(dir, 'partitions.json'), 'utf8'))).toEqual({ partitions: 16 });
    await expect(claimPartitionCount(dir, 16)).resolves.toBe(16);
  });

  it('refuses another count, naming the variable and both counts', async () => {
    await claimPartitionCount(dir, 16);
    const err = await claimPartitionCount(dir, 4).catch((e: unknown) => e);
    expect(isPartitionCountMismatch(err)).toBe(true);
    expect((err as Error).message).toMatch(/WHARF_EVENTLOG_PARTITIONS is 4 but .* was created with 16 partitions/);
  });

  it('refuses a count too small for partition directories written before the count was recorded', async () => {
    mkdirSync(join(dir, 'p-0011'));
    await expect(claimPartitionCount(dir, 8)).rejects.toThrow(/holds partition 11/);
    await expect(claimPartitionCount(dir, 16)).resolves.toBe(16);
  });

  it('unset: a new data dir gets the default, an existing one keeps what it was created with', async () => {
    await expect(Promise.all([claimPartitionCount(dir), claimPartitionCount(dir)])).resolves.toEqual([DEFAULT_PARTITIONS, DEFAULT_PARTITIONS]);
    expect(JSON.parse(readFileSync(join(dir, 'partitions.json'), 'utf8'))).toEqual({ partitions: DEFAULT_PARTITIONS });
    const other = mkdtempSync(join(tmpdir(), 'wharf-pcount-'));
    try {
      await claimPartitionCount(other, 16);
      await expect(claimPartitionCount(other)).resolves.toBe(16);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('unset, on partition directories from before the count was recorded: the default of then (16)', async () => {
    mkdirSync(join(dir, 'p-0011'));
    await expect(claimPartitionCount(dir)).resolves.toBe(16);
    expect(JSON.parse(readFileSync(join(dir, 'partitions.json'), 'utf8'))).toEqual({ partitions: 16 });
  });

  it('refuses a damaged record instead of guessing', async () => {
    writeFileSync(join(dir, 'partitions.json'), '{oops');
    await expect(claimPartitionCount(dir, 16)).rejects.toThrow(/not readable JSON/);
    await expect(claimPartitionCount(dir)).rejects.toThrow(/not readable JSON/);
    writeFileSync(join(dir, 'partitions.json'), '{"partitions": 0}');
    await expect(claimPartitionCount(dir)).rejects.toThrow(/not readable JSON/);
  });
});
