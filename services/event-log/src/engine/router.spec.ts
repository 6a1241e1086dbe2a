import { UnavailableError } from '@wharf/errors';
import { ManualClock } from '@wharf/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakePeers, FakeOwnership, silentLogger } from '../../test/engine-fakes';
import { partitionOpener } from '../adapters/storage/partition-opener';
import { Partitions } from './partitions';
import { Router } from './router';

describe('Router', () => {
  let dir: string;
  let ownership: FakeOwnership;
  let partitions: Partitions;
  let peers: ReturnType<typeof fakePeers>;
  let router: Router;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-router-'));
    ownership = new FakeOwnership();
    partitions = new Partitions(
      partitionOpener({ dataDir: dir, segmentBytes: 1 << 20, hotEntries: 10, clock: new ManualClock() }),
      new ManualClock(),
      silentLogger,
    );
    peers = fakePeers();
    router = new Router(ownership, partitions, peers.factory);
  });

  afterEach(async () => {
    await partitions.releaseAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('routes a partition owned and open here to its store', async () => {
    ownership.owners.set(1, { local: true });
    await partitions.acquire(1);
    const route = await router.route(1, false);
    expect('store' in route && route.store.partition).toBe(1);
  });

  it('waits for a partition still being opened here', async () => {
    ownership.owners.set(2, { local: true });
    const opening = partitions.acquire(2);
    const route = await router.route(2, false);
    expect('store' in route && route.store.partition).toBe(2);
    await opening;
  });

  it('routes a partition owned elsewhere to the owner’s peer, one peer per address, closed with the router', async () => {
    ownership.owners.set(0, { local: false, instance: 'el-b', grpc: '10.0.0.2:32403' });
    ownership.owners.set(3, { local: false, instance: 'el-b', grpc: '10.0.0.2:32403' });
    const a = await router.route(0, false);
    const b = await router.route(3, false);
    expect('peer' in a && 'peer' in b && a.peer === b.peer).toBe(true);
    expect(peers.calls).toEqual(['10.0.0.2:32403']);
    router.close();
    expect(peers.made.get('10.0.0.2:32403')!.closed).toBe(true);
  });

  it('a partition with no owner is UNAVAILABLE: moving, retry', async () => {
    const err = await router.route(5, false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ message: 'partition 5 is moving between instances; retry', retryAfterMs: 500, reason: 'partition_moving' });
  });

  it('owned here but not open (released, not yet reopened) is UNAVAILABLE too', async () => {
    ownership.owners.set(1, { local: true });
    await expect(router.route(1, false)).rejects.toThrow('partition 1 is moving between instances; retry');
  });

  it('never forwards a forwarded call: a partition not served here answers UNAVAILABLE', async () => {
    ownership.owners.set(0, { local: false, instance: 'el-b', grpc: '10.0.0.2:32403' });
    await expect(router.route(0, true)).rejects.toThrow('partition 0 is not owned by this instance (moved); retry');
    expect(peers.calls).toEqual([]);
  });

  it('names what is down when ownership cannot be known (etcd)', async () => {
    ownership.trouble = 'etcd is unreachable (lease keep-alive failed: connection refused)';
    const err = await router.route(2, false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe('partition 2 has no usable owner: etcd is unreachable (lease keep-alive failed: connection refused); retry');
    expect(err).toMatchObject({ reason: 'coordination_unavailable' });
  });
});
