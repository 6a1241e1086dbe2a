import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { InternalError, UnavailableError } from '@wharf/errors';
import type { OperationInfo } from '../domain/operation-info';
import type { EntryRecord } from '../domain/records';
import type { FollowSink } from '../engine/follow-sink';
import { OperationLogClient, serveOperationLog, type OperationLogCalls } from './operation-log-bridge';

const line = (e: string, s: number): EntryRecord => ({ k: 'l', e, s, t: 1000 + s, lv: 2, st: 'build', x: `line ${s}`, tm: 1000 + s });
const info = (eventId: string): OperationInfo => ({
  eventId,
  tenantId: 't1',
  target: 'component/c1',
  status: 2,
  message: '',
  failedStep: '',
  lastSeq: 3,
  firstMs: 1,
  lastMs: 2,
});

/** An engine stand-in whose follows the test drives by hand. */
class FakeEngine implements OperationLogCalls {
  readonly sinks = new Map<string, FollowSink>();
  readonly cancelled: string[] = [];
  async info(eventId: string) {
    if (eventId === 'boom') throw new UnavailableError('partition 3 is moving between instances; retry', { retryAfterMs: 500, reason: 'partition_moving' });
    if (eventId === 'bug') throw new TypeError('x is undefined');
    return eventId === 'missing' ? undefined : info(eventId);
  }
  async read(eventId: string, afterSeq: number) {
    return { info: info(eventId), entries: [line(eventId, afterSeq + 1)], more: false };
  }
  listOperations(target: string) {
    return { operations: [info(`op-of-${target}`)], nextCursor: '' };
  }
  ownedPartitions() {
    return [0, 2];
  }
  ready = { ready: false, reason: 'partition 3 has no owner yet' };
  async readiness() {
    return this.ready;
  }
  follow(eventId: string, _afterSeq: number, sink: FollowSink) {
    this.sinks.set(eventId, sink);
    return () => this.cancelled.push(eventId);
  }
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('operation log bridge (streaming thread <-> ingest thread)', () => {
  let ports: { port1: MessagePort; port2: MessagePort };
  let engine: FakeEngine;
  let client: OperationLogClient;
  let server: { close(): void };

  beforeEach(() => {
    ports = new MessageChannel();
    engine = new FakeEngine();
    server = serveOperationLog(ports.port2, engine);
    client = new OperationLogClient(ports.port1);
  });

  afterEach(() => {
    server.close();
    client.close('test over');
    ports.port1.close();
  });

  it('answers calls with the engine, structured-cloned, and passes its errors on by message and code', async () => {
    await expect(client.info('op-1')).resolves.toEqual(info('op-1'));
    await expect(client.info('missing')).resolves.toBeUndefined();
    await expect(client.read('op-1', 7, 100)).resolves.toEqual({ info: info('op-1'), entries: [line('op-1', 8)], more: false });
    await expect(client.listOperations('component/c1', '', 50)).resolves.toEqual({ operations: [info('op-of-component/c1')], nextCursor: '' });
    await expect(client.ownedPartitions()).resolves.toEqual([0, 2]);
    await expect(client.info('boom')).rejects.toThrow('partition 3 is moving between instances; retry');
    const moving = await client.info('boom').catch((e: unknown) => e);
    expect(moving).toBeInstanceOf(UnavailableError);
    expect(moving).toMatchObject({ retryAfterMs: 500, reason: 'partition_moving' });
    // Anything not of the vocabulary is a bug: internal, with its message for the log.
    await expect(client.info('bug')).rejects.toEqual(new InternalError('x is undefined'));
  });

  it('carries readiness over, reason included', async () => {
    await expect(client.readiness()).resolves.toEqual({ ready: false, reason: 'partition 3 has no owner yet' });
    engine.ready = { ready: true, reason: '' };
    await expect(client.readiness()).resolves.toEqual({ ready: true, reason: '' });
  });

  it('refuses a call the bridge does not serve', async () => {
    ports.port1.postMessage({ t: 'call', id: 999_999, method: 'append', args: [] });
    const answer = await new Promise<unknown>((resolve) => ports.port1.once('message', resolve));
    expect(answer).toEqual({ t: 'error', id: 999_999, error: { code: 'internal', message: 'unknown call append' } });
  });

  it('delivers each follow its own entries in order, then its end, and nothing after', async () => {
    const got: Record<string, (number | string)[]> = { a: [], b: [] };
    const sink = (id: 'a' | 'b'): FollowSink => ({ entries: (es) => got[id].push(...es.map((e) => e.s)), end: (reason) => got[id].push(`end: ${reason}`) });
    client.follow('a', 0, sink('a'));
    client.follow('b', 5, sink('b'));
    await until(() => engine.sinks.size === 2);
    const a = engine.sinks.get('a')!;
    const b = engine.sinks.get('b')!;
    // One event-loop turn on the ingest side: these go over as one message, order kept per follow.
    a.entries([line('a', 1), line('a', 2)]);
    b.entries([line('b', 6)]);
    a.entries([line('a', 3)]);
    a.end('partition moved');
    a.entries([line('a', 4)]);
    await until(() => got.a.length === 4 && got.b.length === 1);
    expect(got.a).toEqual([1, 2, 3, 'end: partition moved']);
    expect(got.b).toEqual([6]);
  });

  it('tells how long each batch of entries waited to be taken by the streaming thread', async () => {
    const waits: number[] = [];
    client.onHandoff = (s) => waits.push(s);
    const got: number[] = [];
    client.follow('a', 0, { entries: (es) => got.push(...es.map((e) => e.s)), end: () => undefined });
    await until(() => engine.sinks.has('a'));
    engine.sinks.get('a')!.entries([line('a', 1)]);
    await until(() => got.length === 1);
    // The next batch is posted (end of the ingest side's turn), then this thread is kept busy
    // for 30 ms before it can take it: the wait shows that (a lower bound, not a speed).
    engine.sinks.get('a')!.entries([line('a', 2)]);
    await new Promise((r) => setImmediate(r));
    const busyUntil = Date.now() + 30;
    while (Date.now() < busyUntil);
    await until(() => got.length === 2);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(0);
    expect(waits[1]).toBeGreaterThanOrEqual(0.025);
  });

  it('cancels the follow on the ingest side and drops what was already on its way', async () => {
    const got: number[] = [];
    const cancel = client.follow('a', 0, { entries: (es) => got.push(...es.map((e) => e.s)), end: () => got.push(-1) });
    await until(() => engine.sinks.has('a'));
    engine.sinks.get('a')!.entries([line('a', 1)]);
    await until(() => got.length === 1);
    engine.sinks.get('a')!.entries([line('a', 2)]);
    cancel();
    await until(() => engine.cancelled.includes('a'));
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([1]);
  });

  it('when the ingest thread is gone, fails pending and later calls and ends every follow', async () => {
    const ended: string[] = [];
    client.follow('a', 0, { entries: () => undefined, end: (reason) => ended.push(reason) });
    server.close();
    const pending = client.info('op-1');
    client.close('ingest thread exited (1)');
    await expect(pending).rejects.toThrow('ingest thread exited (1)');
    await expect(pending).rejects.toBeInstanceOf(UnavailableError);
    await expect(client.read('op-1', 0, 10)).rejects.toThrow('ingest thread exited (1)');
    expect(ended).toEqual(['ingest thread exited (1)']);
    client.follow('b', 0, { entries: () => undefined, end: (reason) => ended.push(reason) });
    await until(() => ended.length === 2);
  });
});
