import { create } from '@bufbuild/protobuf';
import { eventlogV1, eventsV1 } from '@wharf/contracts';
import { createEtcdClient, type Etcd3 } from '@wharf/etcd';
import { EventLogClient } from '@wharf/event-log-client';
import { EtcdEventStore } from '@wharf/event-store';
import { createClient, NotFoundError, ResourceExhaustedError, type ServiceClient } from '@wharf/grpc';
import { freePort, startEtcd, startEventLog, waitFor, type EtcdInstance, type RunningEventLog } from '@wharf/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { seedOperation, seedUser } from '../test/seed';

type Wire = { seq: number; type: string; text?: string; status?: string };

/** Connects a socket.io client; rejects with the server's reason when the handshake is refused. */
function connect(url: string, token?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = io(url, { auth: token ? { token } : {}, transports: ['websocket'], reconnection: false, forceNew: true });
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => (s.close(), reject(err)));
  });
}

function subscribe(s: Socket, eventId: string, afterSeq: number): Promise<{ ok: boolean; error?: { code: string } }> {
  return s.timeout(5000).emitWithAck('subscribe', { event_id: eventId, after_seq: afterSeq });
}

// One real event-log process over a real etcd: ingest, final status into the event store,
// socket.io resume, tenant isolation, bad input, and kill -9 durability.
describe('event-log service', () => {
  let etcd: EtcdInstance;
  let etcdClient: Etcd3;
  let store: EtcdEventStore;
  let dataDir: string;
  let el: RunningEventLog;
  let grpc: ServiceClient<typeof eventlogV1.EventLogService>;
  let tokenA: string;
  let tokenB: string;
  let env: Record<string, string>;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    etcd = await startEtcd();
    etcdClient = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    store = new EtcdEventStore({ client: etcdClient });
    tokenA = await seedUser(store, 'alice', ['ta']);
    tokenB = await seedUser(store, 'bob', ['tb']);
    for (const id of ['evt-ok', 'evt-fail', 'evt-timeout', 'evt-resume', 'evt-crash']) await seedOperation(store, 'ta', 'c1', id);
    await seedOperation(store, 'tb', 'c2', 'evt-b');
    dataDir = mkdtempSync(join(tmpdir(), 'wharf-eventlog-it-'));
    env = {
      WHARF_EVENTLOG_GRPC_ADDR: `127.0.0.1:${await freePort()}`,
      WHARF_HTTP_PORT: String(await freePort()),
      WHARF_EVENTLOG_OPERATION_TIMEOUT_MS: '1500',
      WHARF_EVENTLOG_SWEEP_INTERVAL_MS: '200',
      WHARF_EVENTLOG_RATE_PER_SENDER: '20000',
      WHARF_EVENTLOG_RATE_BURST: '20000',
      WHARF_EVENTLOG_MAX_LINE_BYTES: '100',
      WHARF_EVENTLOG_LEASE_TTL_S: '2',
      WHARF_EVENTLOG_PARTITIONS: '4',
    };
    el = await startEventLog(etcd, dataDir, env);
    grpc = createClient(eventlogV1.EventLogService, el.grpc, { security: etcd.pki.security('api-gateway') });
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    grpc?.close();
    await el?.stop();
    etcdClient?.close();
    await etcd?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function finishedEvents(eventId: string) {
    const events = await store.read('component/c1');
    return {
      started: events.filter((e) => e.type === 'wharf.events.v1.OperationStarted' && (e.message as eventsV1.OperationStarted).eventId === eventId),
      finished: events
        .filter((e) => e.type === 'wharf.events.v1.OperationFinished' && (e.message as eventsV1.OperationFinished).eventId === eventId)
        .map((e) => e.message as eventsV1.OperationFinished),
    };
  }

  it('decides success once and appends OperationStarted and OperationFinished to the target stream', async () => {
    const client = new EventLogClient({ security: etcd.pki.security('builder'), address: el.grpc });
    const op = client.operation('evt-ok');
    const build = op.step('build');
    build.line('compiling');
    build.ok();
    const push = op.step('push');
    push.line('pushing');
    push.ok();
    op.done();
    op.done(); // a second done changes nothing
    await client.close();
    const f = await waitFor('OperationFinished', async () => ((await finishedEvents('evt-ok')).finished.length ? finishedEvents('evt-ok') : undefined));
    expect(f.finished).toHaveLength(1);
    expect(f.finished[0].status).toBe(eventsV1.OperationStatus.SUCCESS);
    expect(f.started).toHaveLength(1);
    const page = await grpc.read({ eventId: 'evt-ok' });
    expect(page.operation?.status).toBe(eventsV1.OperationStatus.SUCCESS);
    expect(page.entries.map((e) => e.body.case)).toEqual(['stepStarted', 'line', 'stepFinished', 'stepStarted', 'line', 'stepFinished', 'final']);
    expect(page.entries.map((e) => Number(e.seq))).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('fails the operation with the failing step and its message', async () => {
    const client = new EventLogClient({ security: etcd.pki.security('builder'), address: el.grpc });
    const op = client.operation('evt-fail');
    op.step('clone').ok();
    op.step('build').fail('npm ERR! missing script: build');
    op.done();
    await client.close();
    const f = await waitFor('OperationFinished', async () => (await finishedEvents('evt-fail')).finished[0]);
    expect(f).toMatchObject({ status: eventsV1.OperationStatus.FAILURE, message: 'npm ERR! missing script: build', failedStep: 'build' });
  });

  it('times out an operation that stops reporting', async () => {
    const client = new EventLogClient({ security: etcd.pki.security('builder'), address: el.grpc });
    client.operation('evt-timeout').step('deploy').line('waiting for replicas');
    await client.close();
    const f = await waitFor('timeout', async () => (await finishedEvents('evt-timeout')).finished[0], 20_000);
    expect(f).toMatchObject({ status: eventsV1.OperationStatus.TIMEOUT, failedStep: 'deploy' });
  });

  it('socket.io: catch-up, then live; a client that reconnects with its last seq loses and duplicates nothing', async () => {
    const client = new EventLogClient({ security: etcd.pki.security('builder'), address: el.grpc, lingerMs: 1 });
    const op = client.operation('evt-resume');
    for (let i = 0; i < 100; i++) op.line(`early ${i}`);
    await client.flush();
    const seen: number[] = [];
    let s = await connect(el.url, tokenA);
    sockets.push(s);
    const onEntries = (m: { event_id: string; entries: Wire[] }) => seen.push(...m.entries.map((e) => e.seq));
    s.on('entries', onEntries);
    expect((await subscribe(s, 'evt-resume', 0)).ok).toBe(true);
    // A producer that keeps writing while the client drops and comes back.
    let writing = true;
    const producer = (async () => {
      for (let i = 0; writing; i++) {
        op.line(`live ${i}`);
        if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await waitFor('some live lines', async () => (seen.length > 150 ? true : undefined));
    s.close();
    await new Promise((r) => setTimeout(r, 100));
    const last = seen[seen.length - 1];
    s = await connect(el.url, tokenA);
    sockets.push(s);
    s.on('entries', onEntries);
    expect((await subscribe(s, 'evt-resume', last)).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    writing = false;
    await producer;
    op.done();
    await client.close();
    const total = Number((await grpc.read({ eventId: 'evt-resume', limit: 1 })).operation!.lastSeq);
    await waitFor('every entry', async () => (seen.length >= total && seen[seen.length - 1] === total ? true : undefined));
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    s.close();
  });

  it('isolates tenants on socket.io and HTTP, and refuses unauthenticated clients', async () => {
    await expect(connect(el.url)).rejects.toThrow(/unauthenticated/);
    await expect(connect(el.url, 'wharf_AAAAAAAAAAAAAAAA_' + 'x'.repeat(43))).rejects.toThrow(/unauthenticated/);
    const b = await connect(el.url, tokenB);
    sockets.push(b);
    expect(await subscribe(b, 'evt-ok', 0)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await b.timeout(5000).emitWithAck('logs.subscribe', { component_id: 'c1', tail: 10 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect((await b.timeout(5000).emitWithAck('logs.subscribe', { component_id: 'c2', tail: 10 })).ok).toBe(true);
    expect(await subscribe(b, 'evt-never-heard-of', 0)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await subscribe(b, 'bad id!', 0)).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    b.close();
    const asB = await fetch(`${el.url}/api/v1/operations/evt-ok/entries`, { headers: { authorization: `Bearer ${tokenB}` } });
    expect(asB.status).toBe(404);
    const asA = await fetch(`${el.url}/api/v1/operations/evt-ok/entries?after_seq=2&limit=2`, { headers: { authorization: `Bearer ${tokenA}` } });
    expect(asA.status).toBe(200);
    const body = (await asA.json()) as { operation: { status: string }; entries: Wire[]; more: boolean };
    expect(body.operation.status).toBe('success');
    expect(body.entries.map((e) => e.seq)).toEqual([3, 4]);
    expect(body.more).toBe(true);
    expect((await fetch(`${el.url}/api/v1/operations/evt-ok/entries`)).status).toBe(401);
    const list = await fetch(`${el.url}/api/v1/operations?target=component/c1&limit=2`, { headers: { authorization: `Bearer ${tokenA}` } });
    expect(((await list.json()) as { operations: unknown[]; next_cursor: string }).operations).toHaveLength(2);
    expect((await fetch(`${el.url}/api/v1/operations?target=component/c1`, { headers: { authorization: `Bearer ${tokenB}` } })).status).toBe(404);
  });

  it('socket.io: checks every payload field by field and answers every event, unknown ones with the list of known events', async () => {
    const s = await connect(el.url, tokenA);
    sockets.push(s);
    type Reply = { ok: boolean; error?: { code: string; message: string; field?: string; reason?: string } };
    const ask = (event: string, ...args: unknown[]): Promise<Reply> => s.timeout(5000).emitWithAck(event, ...args);
    // after_seq: a non-negative integer, or absent (0); nothing that only looks like one.
    for (const bad of ['5', null, true, 1.5, -1, [], {}]) {
      const r = await ask('subscribe', { event_id: 'evt-ok', after_seq: bad });
      expect({ bad, r }).toMatchObject({ bad, r: { ok: false, error: { code: 'invalid_argument', field: 'after_seq' } } });
      expect(r.error!.message).toMatch(/^after_seq: must be a non-negative integer/);
    }
    expect(await ask('subscribe', { event_id: 'evt-ok', after_seq: 1_000_000 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_argument', field: 'after_seq', reason: 'out_of_range' },
    });
    const ok = await ask('subscribe', { event_id: 'evt-ok' });
    expect(ok).toMatchObject({ ok: true, operation: { event_id: 'evt-ok' } });
    expect(await ask('subscribe', { event_id: 'evt-ok' })).toMatchObject({ ok: false, error: { code: 'already_exists', reason: 'already_subscribed' } });
    expect(await ask('unsubscribe', { event_id: 'evt-ok' })).toEqual({ ok: true });
    // Every field of every event, by name.
    expect(await ask('subscribe', { event_id: 42 })).toMatchObject({ ok: false, error: { code: 'invalid_argument', field: 'event_id' } });
    expect(await ask('subscribe', { event_id: 'evt-ok', after: 3 })).toMatchObject({ ok: false, error: { code: 'invalid_argument', field: 'after' } });
    expect(await ask('subscribe', 'evt-ok')).toMatchObject({ ok: false, error: { code: 'invalid_argument', field: 'payload' } });
    expect(await ask('subscribe')).toMatchObject({ ok: false, error: { code: 'invalid_argument', field: 'payload' } });
    expect(await ask('unsubscribe', { event_id: ['evt-ok'] })).toMatchObject({ ok: false, error: { code: 'invalid_argument', field: 'event_id' } });
    expect(await ask('unsubscribe', { event_id: 'evt-ok' })).toMatchObject({ ok: false, error: { code: 'not_found', reason: 'not_subscribed' } });
    expect(await ask('logs.subscribe', { component_id: 'c1', tail: '10' })).toMatchObject({ ok: false, error: { code: 'invalid_argument', field: 'tail' } });
    expect(await ask('logs.subscribe', { component_id: 'c1', tail: 10_001 })).toMatchObject({ ok: false, error: { code: 'invalid_argument', field: 'tail' } });
    expect(await ask('logs.unsubscribe', { component_id: null })).toMatchObject({ ok: false, error: { code: 'invalid_argument', field: 'component_id' } });
    // An unknown event: with an ack, the ack says so; without one, an 'error' event does.
    const known = 'known events: subscribe, unsubscribe, logs.subscribe, logs.unsubscribe';
    const unknown = await ask('subscirbe', { event_id: 'evt-ok' });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'invalid_argument', field: 'event' } });
    expect(unknown.error!.message).toBe(`event: unknown event "subscirbe"; ${known}`);
    const errors: unknown[] = [];
    s.on('error', (e: unknown) => errors.push(e));
    s.emit('logs.tail', { component_id: 'c1' });
    s.emit('subscribe', { event_id: 'evt-ok', after_seq: '5' });
    await waitFor('error events', async () => (errors.length === 2 ? true : undefined));
    expect(errors).toEqual([
      { ok: false, event: 'logs.tail', error: { code: 'invalid_argument', field: 'event', message: `event: unknown event "logs.tail"; ${known}` } },
      { ok: false, event: 'subscribe', error: expect.objectContaining({ code: 'invalid_argument', field: 'after_seq' }) },
    ]);
    // Still connected and serving.
    expect(await ask('subscribe', { event_id: 'evt-ok', after_seq: 0 })).toMatchObject({ ok: true });
    s.close();
  });

  it('answers bad input with reasons and keeps serving', async () => {
    const res = await grpc.append({
      frames: [
        { eventId: '', body: { case: 'done', value: {} } },
        { eventId: 'evt-b', body: { case: undefined } },
        { eventId: 'evt-b', body: { case: 'line', value: { text: 'z'.repeat(500) } } },
      ],
    });
    expect(res.accepted).toBe(1);
    expect(res.rejected.map((r) => [r.index, r.reason.split(':')[0]])).toEqual([
      [0, 'event_id'],
      [1, 'frame'],
    ]);
    const page = await grpc.read({ eventId: 'evt-b' });
    const text = page.entries[0].body.case === 'line' ? page.entries[0].body.value.text : '';
    expect(text).toBe(`${'z'.repeat(100)}…[truncated 400 bytes]`);
    await expect(grpc.read({ eventId: 'evt-unknown' })).rejects.toBeInstanceOf(NotFoundError);
    // A flood from one sender is refused; another sender still gets in.
    const flood = Array.from({ length: 10_000 }, (_, i) =>
      create(eventlogV1.FrameSchema, { eventId: 'evt-flood', producer: 'flooder', body: { case: 'line', value: { text: `f${i}` } } }),
    );
    // 20,000 frames/s with a burst of 20,000: six batches of 10,000 sent at once arrive within
    // far less than the 2 s it would take to earn the tokens for all of them.
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => grpc.append({ frames: flood })));
    // Some of the flood is refused by the rate limit. Not necessarily the first refusal: a
    // batch admitted while the ingest thread is busy storing the others can meet its partition
    // fenced (UNAVAILABLE, retried by real clients), depending on how the batches interleave.
    const refusals = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(refusals.some((err) => err instanceof ResourceExhaustedError)).toBe(true);
    expect((await grpc.append({ frames: [{ eventId: 'evt-b', producer: 'polite', body: { case: 'line', value: { text: 'hi' } } }] })).accepted).toBe(1);
    expect((await fetch(`${el.url}/health`)).status).toBe(200);
  });

  it('kill -9 while lines stream in: every acknowledged line is there after the restart, once', async () => {
    const acked: string[] = [];
    let writing = true;
    // Raw Appends: we know exactly which lines were acknowledged before the crash.
    const raw = (async () => {
      for (let i = 0; writing; i++) {
        const texts = Array.from({ length: 50 }, (_, j) => `raw ${i}-${j}`);
        try {
          await grpc.append({ frames: texts.map((text) => ({ eventId: 'evt-crash', body: { case: 'line' as const, value: { text } } })) }, { timeoutMs: 2000 });
          acked.push(...texts);
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    })();
    // The client library retries through the crash; its producer seqs make retries harmless.
    const client = new EventLogClient({ security: etcd.pki.security('builder'), address: el.grpc, retryInitialMs: 50, retryMaxMs: 500 });
    const op = client.operation('evt-crash');
    const sent: string[] = [];
    const lib = (async () => {
      for (let i = 0; writing; i++) {
        const text = `lib ${i}`;
        if (op.line(text)) sent.push(text);
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await waitFor('lines before the crash', async () => (acked.length > 2000 ? true : undefined));
    await el.stop('SIGKILL');
    const ackedBeforeCrash = acked.length;
    el = await startEventLog(etcd, dataDir, env);
    await waitFor('lines after the restart', async () => (acked.length > ackedBeforeCrash + 500 ? true : undefined), 30_000);
    writing = false;
    await Promise.all([raw, lib]);
    expect(await client.flush(30_000)).toBe(true);
    await client.close();

    const texts: string[] = [];
    const seqs: number[] = [];
    for (let after = 0n; ;) {
      const page = await grpc.read({ eventId: 'evt-crash', afterSeq: after, limit: 5000 });
      for (const e of page.entries) {
        seqs.push(Number(e.seq));
        if (e.body.case === 'line') texts.push(e.body.value.text);
      }
      after = page.nextAfterSeq;
      if (!page.more) break;
    }
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const stored = new Set(texts);
    expect(acked.filter((t) => !stored.has(t))).toEqual([]);
    expect(sent.filter((t) => !stored.has(t))).toEqual([]);
    const libTexts = texts.filter((t) => t.startsWith('lib '));
    expect(new Set(libTexts).size).toBe(libTexts.length);
    expect(libTexts.length).toBe(sent.length);
  });
});
