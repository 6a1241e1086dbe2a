import { create } from '@bufbuild/protobuf';
import { eventlogV1 } from '@wharf/contracts';
import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { createClient, InternalError, UnavailableError, type ServiceClient } from '@wharf/grpc';
import { clientSecurity, freePort, rawHttp, startEtcd, startEventLog, waitFor, type EtcdInstance, type RunningEventLog } from '@wharf/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partitionOf } from './domain/partition-of';

const PARTITIONS = 4;

/** What the instance's readiness probe says now (its wharf_eventlog_ready gauge, asked through the MessagePort bridge). */
async function ready(el: RunningEventLog): Promise<boolean> {
  const text = await (await fetch(`${el.url}/metrics`)).text();
  const m = /^wharf_eventlog_ready (\d+)$/m.exec(text);
  if (!m) throw new Error('no wharf_eventlog_ready in /metrics');
  return m[1] === '1';
}

/** What GET /readyz answers (the probe `npm run up` and the harness wait on). */
async function readyz(el: RunningEventLog): Promise<{ status: number; body: { status: string; checks: Record<string, { ok: boolean; detail?: string }> } }> {
  const res = await fetch(`${el.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> } };
}

/** One line for an operation of every partition. */
function framesForEveryPartition(tag: string): eventlogV1.Frame[] {
  const frames: eventlogV1.Frame[] = [];
  for (let p = 0, i = 0; p < PARTITIONS; i++) {
    const eventId = `${tag}-${i}`;
    if (partitionOf(eventId, PARTITIONS) !== p) continue;
    frames.push(create(eventlogV1.FrameSchema, { eventId, body: { case: 'line', value: { text: `to partition ${p}` } } }));
    p++;
  }
  return frames;
}

// Readiness of a real event-log process over a real etcd: not ready while it cannot take
// appends for every partition, ready exactly when it can; and with etcd gone, appends are
// refused at once as UNAVAILABLE naming etcd.
describe('event-log readiness', () => {
  let etcd: EtcdInstance;
  let etcdClient: Etcd3;
  let dataDir: string;
  let el: RunningEventLog | undefined;
  let grpc: ServiceClient<typeof eventlogV1.EventLogService>;

  beforeAll(async () => {
    etcd = await startEtcd();
    etcdClient = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    dataDir = mkdtempSync(join(tmpdir(), 'wharf-eventlog-ready-'));
  });

  afterAll(async () => {
    grpc?.close();
    // etcd is gone by now: nothing to hand over cleanly.
    await el?.stop('SIGKILL');
    etcdClient?.close();
    await etcd?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is not ready while its partitions are held by an owner it cannot reach, and takes an append as soon as it says it is ready', async () => {
    // An instance that died a moment ago: its partition keys are still on its live lease, its port answers nothing.
    const ghost = JSON.stringify({ instance: 'el-ghost', grpc: `127.0.0.1:${await freePort()}` });
    const keys = new KeyLayout('/wharf');
    const lease = etcdClient.lease(60);
    for (let p = 0; p < PARTITIONS; p++) await lease.put(keys.eventlog.partition(p)).value(ghost);

    el = await startEventLog(
      etcd,
      dataDir,
      // Short HTTP limits, so a slow client's 408 comes quickly.
      {
        WHARF_EVENTLOG_PARTITIONS: String(PARTITIONS),
        WHARF_EVENTLOG_LEASE_TTL_S: '2',
        WHARF_HTTP_HEADERS_TIMEOUT_MS: '1000',
        WHARF_HTTP_REQUEST_TIMEOUT_MS: '1500',
      },
      30_000,
      { waitReady: false },
    );
    grpc = createClient(eventlogV1.EventLogService, el.grpc, { security: clientSecurity(etcd, 'builder') });
    expect(await ready(el)).toBe(false);
    const notReady = await readyz(el);
    expect(notReady.status).toBe(503);
    expect(notReady.body.checks.partitions).toMatchObject({ ok: false, detail: expect.stringMatching(/owner el-ghost cannot be reached/) });
    // What not ready means: an append is refused (forwarded to an owner that is not there).
    await expect(grpc.append({ frames: framesForEveryPartition('before') }, { timeoutMs: 10_000 })).rejects.toBeInstanceOf(UnavailableError);
    expect(await ready(el)).toBe(false);

    // The ghost's lease expires: its keys go, and this instance takes the partitions over.
    await lease.revoke();
    await waitFor('ready', async () => ((await ready(el!)) ? true : undefined), 20_000, 10);
    const res = await grpc.append({ frames: framesForEveryPartition('after') }, { timeoutMs: 10_000 });
    expect(res).toMatchObject({ accepted: PARTITIONS, rejected: [] });
    expect(await readyz(el)).toMatchObject({ status: 200, body: { status: 'ready', checks: { partitions: { ok: true } } } });
  });

  it('bounds slow and oversized HTTP requests as every service does: 408 for headers that never end, 431 for a 70 KB header, no reset', async () => {
    const port = Number(new URL(el!.url).port);
    // It takes no request bodies: the slow client is one that never finishes its headers.
    const short = await rawHttp(port, 'GET /readyz HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n');
    expect(short.text).toMatch(/^HTTP\/1.1 408 /);
    const big = await rawHttp(port, `GET /readyz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(70_000)}\r\n\r\n`);
    expect(big.text).toMatch(/^HTTP\/1.1 431 /);
    expect(big.reset).toBe(false);
    expect((await fetch(`${el!.url}/livez`)).status).toBe(200);
  });

  it('with etcd down: appends answer UNAVAILABLE naming etcd, not INTERNAL and without hanging, and it is not ready', async () => {
    expect(await ready(el!)).toBe(true);
    await etcd.kill();
    // The lease stays valid for a moment (appends go on being served); then the instance fences itself.
    const refused = await waitFor(
      'an append refused',
      async () => {
        try {
          await grpc.append({ frames: framesForEveryPartition('outage') }, { timeoutMs: 5000 });
          return undefined;
        } catch (err) {
          return err;
        }
      },
      30_000,
      100,
    );
    expect(refused).not.toBeInstanceOf(InternalError);
    expect(refused).toBeInstanceOf(UnavailableError);
    expect((refused as Error).message).toMatch(/etcd is unreachable/);
    expect(await ready(el!)).toBe(false);
  });
});
