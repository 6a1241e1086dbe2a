import { eventlogV1, eventsV1 } from '@wharf/contracts';
import { createEtcdClient, type Etcd3 } from '@wharf/etcd';
import { EventLogClient } from '@wharf/event-log-client';
import { EtcdEventStore } from '@wharf/event-store';
import { createClient, type ServiceClient } from '@wharf/grpc';
import { freePort, spawnProcess, startEtcd, startEventLog, waitFor, type EtcdInstance, type RunningEventLog } from '@wharf/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { seedOperation } from '../test/seed';

const START_TIMEOUT_MS = 1500;

// Operations requested in the event store that nothing ever reports on (no builder running,
// a worker that died before its first line): event-log learns them from the feed and times
// them out "never started", counting from when they could start.
describe('event-log: operations nothing reports on', () => {
  let etcd: EtcdInstance;
  let etcdClient: Etcd3;
  let store: EtcdEventStore;
  let dataDir: string;
  let el: RunningEventLog;
  let env: Record<string, string>;

  beforeAll(async () => {
    etcd = await startEtcd();
    etcdClient = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    store = new EtcdEventStore({ client: etcdClient });
    dataDir = mkdtempSync(join(tmpdir(), 'wharf-eventlog-unreported-'));
    env = {
      WHARF_EVENTLOG_GRPC_ADDR: `127.0.0.1:${await freePort()}`,
      WHARF_HTTP_PORT: String(await freePort()),
      WHARF_EVENTLOG_START_TIMEOUT_MS: String(START_TIMEOUT_MS),
      WHARF_EVENTLOG_SWEEP_INTERVAL_MS: '100',
      WHARF_EVENTLOG_LEASE_TTL_S: '2',
      WHARF_EVENTLOG_PARTITIONS: '4',
    };
    el = await startEventLog(etcd, dataDir, env);
  });

  afterAll(async () => {
    await el?.stop();
    etcdClient?.close();
    await etcd?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function outcome(componentId: string, eventId: string) {
    const events = await store.read(`component/${componentId}`);
    const of = (type: string) => events.filter((e) => e.type === type && (e.message as unknown as { eventId: string }).eventId === eventId);
    const finished = of('wharf.events.v1.OperationFinished');
    return {
      started: of('wharf.events.v1.OperationStarted').length,
      finished: finished.map((e) => ({ ...(e.message as eventsV1.OperationFinished), timeMs: e.timeMs })),
    };
  }

  function finishedOnce(componentId: string, eventId: string, timeoutMs = 15_000) {
    return waitFor(
      `${eventId} finished`,
      async () => ((await outcome(componentId, eventId)).finished.length ? outcome(componentId, eventId) : undefined),
      timeoutMs,
    );
  }

  it('times out an operation nothing reports on, once, with no OperationStarted, and its timeline says so', async () => {
    await seedOperation(store, 'ta', 'never', 'never-1');
    const o = await finishedOnce('never', 'never-1');
    expect(o.finished).toEqual([
      expect.objectContaining({
        status: eventsV1.OperationStatus.TIMEOUT,
        message: `never started: nothing reported within ${START_TIMEOUT_MS / 1000} s`,
        failedStep: '',
      }),
    ]);
    expect(o.started).toBe(0);
    const grpc: ServiceClient<typeof eventlogV1.EventLogService> = createClient(eventlogV1.EventLogService, el.grpc, {
      security: etcd.pki.security('api-gateway'),
    });
    try {
      const page = await grpc.read({ eventId: 'never-1' });
      expect(page.operation?.status).toBe(eventsV1.OperationStatus.TIMEOUT);
      expect(page.entries.map((e) => e.body.case)).toEqual(['final']);
    } finally {
      grpc.close();
    }
    // Decided once: nothing more is appended later.
    await new Promise((r) => setTimeout(r, 500));
    expect((await outcome('never', 'never-1')).finished).toHaveLength(1);
  });

  it('an operation that reports in time is not touched by the start timeout', async () => {
    await seedOperation(store, 'ta', 'prompt', 'prompt-1');
    const client = new EventLogClient({ security: etcd.pki.security('builder'), address: el.grpc });
    const op = client.operation('prompt-1');
    const build = op.step('build');
    build.line('compiling');
    build.ok();
    op.done();
    await client.close();
    const o = await finishedOnce('prompt', 'prompt-1');
    expect(o.finished).toEqual([expect.objectContaining({ status: eventsV1.OperationStatus.SUCCESS })]);
    expect(o.started).toBe(1);
  });

  it('a queued operation starts its clock only when the one before it on the same target finishes', async () => {
    await seedOperation(store, 'ta', 'queue', 'q-1');
    await seedOperation(store, 'ta', 'queue', 'q-2');
    // q-1 runs for about twice the start timeout, reporting as it goes; q-2 waits behind it.
    const client = new EventLogClient({ security: etcd.pki.security('builder'), address: el.grpc, lingerMs: 1 });
    const op = client.operation('q-1');
    const deploy = op.step('deploy');
    for (let i = 0; i < 6; i++) {
      deploy.line(`waiting for replicas ${i}`);
      await client.flush();
      await new Promise((r) => setTimeout(r, START_TIMEOUT_MS / 3));
    }
    expect((await outcome('queue', 'q-2')).finished).toHaveLength(0);
    deploy.ok();
    op.done();
    await client.close();
    const first = await finishedOnce('queue', 'q-1');
    expect(first.finished[0].status).toBe(eventsV1.OperationStatus.SUCCESS);
    const second = await finishedOnce('queue', 'q-2');
    expect(second.finished).toEqual([expect.objectContaining({ status: eventsV1.OperationStatus.TIMEOUT, message: expect.stringMatching(/^never started/) })]);
    expect(second.finished[0].timeMs - first.finished[0].timeMs).toBeGreaterThanOrEqual(START_TIMEOUT_MS - 100);
  });

  it('still times out an operation requested while event-log was down', async () => {
    await el.stop();
    await seedOperation(store, 'ta', 'down', 'down-1');
    el = await startEventLog(etcd, dataDir, env);
    const o = await finishedOnce('down', 'down-1');
    expect(o.finished).toEqual([expect.objectContaining({ status: eventsV1.OperationStatus.TIMEOUT, message: expect.stringMatching(/^never started/) })]);
  });

  it('refuses to start on the data dir with another partition count, saying which setting is wrong', async () => {
    const proc = spawnProcess(process.execPath, [resolve(__dirname, '..', 'dist', 'main.js')], {
      env: {
        ...process.env,
        ...env,
        ...etcd.pki.env('event-log'),
        WHARF_ETCD_ENDPOINTS: etcd.endpoint,
        WHARF_EVENTLOG_DATA_DIR: dataDir,
        WHARF_EVENTLOG_GRPC_ADDR: '127.0.0.1:0',
        WHARF_HTTP_PORT: '0',
        WHARF_EVENTLOG_PARTITIONS: '8',
      },
    });
    expect(await proc.exited).toBe(78);
    expect(proc.output()).toMatch(/WHARF_EVENTLOG_PARTITIONS is 8 but .* was created with 4 partitions/);
  });

  it('exits, saying why, when its ingest thread fails (here: a partition of a single instance cannot be opened)', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'wharf-eventlog-broken-'));
    // A file where partition 0's directory must be: the ingest thread fails to open it.
    writeFileSync(join(broken, 'p-0000'), 'not a directory');
    try {
      const proc = spawnProcess(process.execPath, [resolve(__dirname, '..', 'dist', 'main.js')], {
        env: {
          ...process.env,
          ...env,
          ...etcd.pki.env('event-log'),
          WHARF_ETCD_ENDPOINTS: etcd.endpoint,
          WHARF_EVENTLOG_DATA_DIR: broken,
          WHARF_EVENTLOG_GRPC_ADDR: '127.0.0.1:0',
          WHARF_HTTP_PORT: '0',
          WHARF_EVENTLOG_CLUSTER: 'false',
        },
      });
      expect(await proc.exited).toBe(1);
      expect(proc.output()).toMatch(/taking partitions failed: .*p-0000/);
      expect(proc.output()).not.toMatch(/event-log listening/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
