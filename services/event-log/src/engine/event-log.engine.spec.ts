import { eventsV1 } from '@wharf/contracts';
import { UnavailableError } from '@wharf/errors';
import { ManualClock } from '@wharf/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { done, FakeFeed, FakeOwnership, fakePeers, FakePublisher, line, silentLogger, stepFinished, stepStarted, tagged } from '../../test/engine-fakes';
import { partitionOpener } from '../adapters/storage/partition-opener';
import type { EntryRecord } from '../domain/records';
import { partitionOf } from '../domain/partition-of';
import { EventLogEngine, type EngineOptions } from './event-log.engine';

const PARTITIONS = 4;
const MIN = 60_000;
const options: EngineOptions = {
  partitions: PARTITIONS,
  operationTimeoutMs: 10 * MIN,
  startTimeoutMs: 30 * MIN,
  retentionBytes: 1 << 30,
  retentionMs: 24 * 60 * MIN,
  // The test sweeps by hand (engine.sweep()), with a clock that moves only when told.
  sweepIntervalMs: 3_600_000,
  pageSize: 100,
};

/** An event id of partition p. */
function idOf(p: number, name: string): string {
  for (let i = 0; ; i++) if (partitionOf(`${name}-${i}`, PARTITIONS) === p) return `${name}-${i}`;
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error(`not reached: ${what}`);
}

describe('EventLogEngine', () => {
  let dir: string;
  let clock: ManualClock;
  let ownership: FakeOwnership;
  let peers: ReturnType<typeof fakePeers>;
  let feed: FakeFeed;
  let publisher: FakePublisher;
  let engine: EventLogEngine;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-engine-'));
    clock = new ManualClock();
    ownership = new FakeOwnership();
    for (let p = 0; p < PARTITIONS; p++) ownership.owners.set(p, { local: true });
    peers = fakePeers();
    feed = new FakeFeed();
    publisher = new FakePublisher();
    engine = new EventLogEngine({
      options,
      ownership,
      openPartition: partitionOpener({ dataDir: dir, segmentBytes: 1 << 20, hotEntries: 100, clock }),
      peers: peers.factory,
      clock,
      logger: silentLogger,
      feed,
      publisher,
    });
  });

  afterEach(async () => {
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores frames, decides success once done, and publishes started and finished once each', async () => {
    await engine.start();
    feed.request('op-ok', 'component/c1', clock.now());
    const totals = await engine.append([
      tagged('op-ok', stepStarted('build')),
      tagged('op-ok', line('compiling')),
      tagged('op-ok', stepFinished('build', true)),
      tagged('op-ok', done),
      tagged('op-ok', done),
    ]);
    expect(totals).toEqual({ accepted: 5, duplicates: 0 });
    const page = await engine.read('op-ok', 0, 0);
    expect(page.entries.map((e) => e.k)).toEqual(['ss', 'l', 'sf', 'f']);
    expect(page.info).toMatchObject({ status: eventsV1.OperationStatus.SUCCESS, lastSeq: 4, target: 'component/c1' });
    await until('published', () => publisher.finishedOps.length === 1);
    expect(publisher.startedIds).toEqual(['op-ok']);
    expect(publisher.finishedOps).toEqual([{ eventId: 'op-ok', decision: { status: eventsV1.OperationStatus.SUCCESS, message: '', failedStep: '' } }]);
  });

  it('retries publishing while the event store fails, and publishes once', async () => {
    await engine.start();
    feed.request('op-retry', 'component/c1', clock.now());
    publisher.failures = 1;
    await engine.append([tagged('op-retry', stepStarted('a')), tagged('op-retry', stepFinished('a', false, 'boom'))]);
    await until('published after a retry', () => publisher.finishedOps.length === 1);
    expect(publisher.finishedOps[0].decision).toEqual({ status: eventsV1.OperationStatus.FAILURE, message: 'boom', failedStep: 'a' });
    expect(publisher.startedIds).toEqual(['op-retry']);
  });

  it('times out a silent operation when the clock passes the timeout, naming the running step', async () => {
    await engine.start();
    feed.request('op-quiet', 'component/c1', clock.now());
    await engine.append([tagged('op-quiet', stepStarted('deploy'))]);
    clock.advance(options.operationTimeoutMs - 1);
    engine.sweep();
    expect((await engine.info('op-quiet'))?.status).toBe(eventsV1.OperationStatus.RUNNING);
    clock.advance(1);
    engine.sweep();
    await until('timed out', () => publisher.finishedOps.length === 1);
    expect(publisher.finishedOps[0].decision).toEqual({
      status: eventsV1.OperationStatus.TIMEOUT,
      message: 'no report for 600 s (step deploy was running)',
      failedStep: 'deploy',
    });
    const entries = (await engine.read('op-quiet', 0, 0)).entries;
    expect(entries[entries.length - 1]).toMatchObject({ k: 'f', ss: eventsV1.OperationStatus.TIMEOUT });
  });

  it('adopts a requested operation nothing reports on and times it out "never started", publishing no OperationStarted', async () => {
    feed.request('op-never', 'component/c2', clock.now());
    await engine.start();
    expect((await engine.info('op-never'))?.status).toBe(eventsV1.OperationStatus.PENDING);
    clock.advance(options.startTimeoutMs);
    engine.sweep();
    await until('never started', () => publisher.finishedOps.length === 1);
    expect(publisher.finishedOps[0].decision.message).toBe('never started: nothing reported within 1800 s');
    expect(publisher.startedIds).toEqual([]);
  });

  it('a queued operation starts its clock only when the one before it on the target finished', async () => {
    await engine.start();
    feed.request('op-first', 'component/c3', clock.now());
    feed.request('op-queued', 'component/c3', clock.now());
    await engine.append([tagged('op-first', stepStarted('a'))]);
    clock.advance(options.startTimeoutMs);
    engine.sweep();
    expect((await engine.info('op-queued'))?.status).toBe(eventsV1.OperationStatus.PENDING);
  });

  it('lists a target’s operations newest first, in pages', async () => {
    await engine.start();
    for (const id of ['l-1', 'l-2', 'l-3']) feed.request(id, 'component/c4', clock.now());
    const first = engine.listOperations('component/c4', '', 2);
    expect(first.operations.map((o) => o.eventId)).toEqual(['l-3', 'l-2']);
    expect(engine.listOperations('component/c4', first.nextCursor, 2)).toMatchObject({ operations: [{ eventId: 'l-1' }], nextCursor: '' });
  });

  it('follows an operation: what is stored, then live entries, once each; a partition that moves away ends the follow', async () => {
    await engine.start();
    const id = idOf(1, 'follow');
    await engine.append([tagged(id, line('a')), tagged(id, line('b'))]);
    const seen: number[] = [];
    const ended: string[] = [];
    engine.follow(id, 1, { entries: (es: EntryRecord[]) => seen.push(...es.map((e) => e.s)), end: (r) => ended.push(r) });
    await until('caught up', () => seen.length === 1);
    await engine.append([tagged(id, line('c'))]);
    await until('live', () => seen.length === 2);
    expect(seen).toEqual([2, 3]);
    await ownership.move(1, 'el-b', '10.0.0.2:32403');
    expect(ended).toEqual(['partition moved']);
  });

  it('forwards calls for a partition owned elsewhere to its peer, and follows through the owner’s stream', async () => {
    ownership.owners.set(2, { local: false, instance: 'el-b', grpc: '10.0.0.2:32403' });
    await engine.start();
    const id = idOf(2, 'remote');
    peers.factory('10.0.0.2:32403');
    const peer = peers.made.get('10.0.0.2:32403')!;
    await expect(engine.append([tagged(id, line('x'))])).resolves.toEqual({ accepted: 1, duplicates: 0 });
    expect(peer.appended).toHaveLength(1);
    peer.followBatches = [[{ k: 'l', e: id, s: 1, t: 1, lv: 2, st: '', x: 'x', tm: 1 }]];
    const seen: number[] = [];
    const ended: string[] = [];
    engine.follow(id, 0, { entries: (es) => seen.push(...es.map((e) => e.s)), end: (r) => ended.push(r) });
    await until('remote end', () => ended.length === 1);
    expect(seen).toEqual([1]);
    expect(ended).toEqual(['owner ended the stream']);
  });

  it('a call for a partition without an owner is UNAVAILABLE, naming etcd when that is why', async () => {
    ownership.owners.delete(3);
    await engine.start();
    ownership.trouble = 'etcd is unreachable (lease keep-alive failed: connect ECONNREFUSED)';
    const err = await engine.append([tagged(idOf(3, 'lost'), line('x'))]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain('etcd is unreachable');
  });

  describe('readiness', () => {
    it('is not ready before its partitions are open, ready once they are', async () => {
      expect(await engine.readiness()).toEqual({ ready: false, reason: 'partitions 0, 1, 2, 3 are owned here but not open yet' });
      await engine.start();
      expect(await engine.readiness()).toEqual({ ready: true, reason: '' });
      // Ready means appends are served: one to every partition goes through.
      await expect(engine.append([0, 1, 2, 3].map((p) => tagged(idOf(p, 'ready'), line('x'))))).resolves.toEqual({ accepted: 4, duplicates: 0 });
    });

    it('names partitions with no owner yet', async () => {
      ownership.owners.delete(1);
      ownership.owners.delete(3);
      await engine.start();
      expect(await engine.readiness()).toEqual({ ready: false, reason: 'partitions 1, 3 have no owner yet' });
    });

    it('probes the owners of other partitions: ready while they answer, not when they are down', async () => {
      ownership.owners.set(2, { local: false, instance: 'el-b', grpc: '10.0.0.2:32403' });
      await engine.start();
      expect(await engine.readiness()).toEqual({ ready: true, reason: '' });
      const peer = peers.made.get('10.0.0.2:32403')!;
      // The probe asks the owner about an event id of that very partition (served there, or not).
      expect(peer.infos.map((id) => partitionOf(id, PARTITIONS))).toEqual([2]);
      peer.down = new UnavailableError('connect ECONNREFUSED 10.0.0.2:32403');
      expect(await engine.readiness()).toEqual({ ready: false, reason: 'partition 2: owner el-b cannot be reached' });
    });

    it('is not ready while etcd cannot be reached', async () => {
      await engine.start();
      ownership.trouble = 'etcd is unreachable (lease not renewed for 4.1 s)';
      expect(await engine.readiness()).toEqual({ ready: false, reason: 'etcd is unreachable (lease not renewed for 4.1 s)' });
    });
  });
});
