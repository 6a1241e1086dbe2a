import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimPartitionCount, PartitionCountMismatch } from './partition-count';

describe('partition count of a data dir', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'wharf-pcount-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is recorded on first use and accepted again, also by instances starting at once', async () => {
    await Promise.all([claimPartitionCount(dir, 16), claimPartitionCount(dir, 16), claimPartitionCount(dir, 16)]);
    expect(JSON.parse(readFileSync(join(dir, 'partitions.json'), 'utf8'))).toEqual({ partitions: 16 });
    await expect(claimPartitionCount(dir, 16)).resolves.toBeUndefined();
  });

  it('refuses another count, naming the variable and both counts', async () => {
    await claimPartitionCount(dir, 16);
    const err = await claimPartitionCount(dir, 4).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartitionCountMismatch);
    expect((err as Error).message).toMatch(/WHARF_EVENTLOG_PARTITIONS is 4 but .* was created with 16 partitions/);
  });

  it('refuses a count too small for partition directories written before the count was recorded', async () => {
    mkdirSync(join(dir, 'p-0011'));
    await expect(claimPartitionCount(dir, 8)).rejects.toThrow(/holds partition 11/);
    await expect(claimPartitionCount(dir, 16)).resolves.toBeUndefined();
  });

  it('refuses a damaged record instead of guessing', async () => {
    writeFileSync(join(dir, 'partitions.json'), '{oops');
    await expect(claimPartitionCount(dir, 16)).rejects.toThrow(/not readable JSON/);
  });
});
