// npm run bench -- eventlog
// One event-log process (real etcd for identity and ownership, its own temp data dir) on
// 127.0.0.1, and in the same run:
//  - baseline: 4 KiB write + fdatasync per second on the same disk (what a group commit costs);
//  - ingest: lines/s acknowledged (= on disk) with Append batches from a few producers;
//  - spread: 1,000 socket.io clients over 100 operations (10 each), 5,000 lines/s in total:
//    emit-to-client latency (client receive time - the line's time_ms) p50/p99;
//  - hot: 1,000 clients on one operation emitting 500 lines/s: p50/p99;
//  - in both, every client's transport is cut mid-run; it reconnects and resubscribes from
//    its last seq; at the end each client must hold exactly seq 1..last stored (lost, dup).
//  - baseline for the stream phases, same run, same clients: a bare socket.io server (in this
//    process, no storage, no gRPC, no batching) sending the spread pattern, each line to its
//    room as it is produced: what the transport and the clients cost on this machine.
//  - for both measured windows: how busy the machine's CPUs were and how many cores each process
//    used (Linux /proc), since with the clients on the same machine latency is mostly CPU queueing.
// Subscribers live in two child processes (bench/eventlog-subscribers.ts). Everything is
// bounded in count and time; the JSON line is printed last. Diagnosis knobs:
// EVENTLOG_BENCH_SCALE=0.1 (fewer clients), EVENTLOG_BENCH_SKIP_INGEST=1, EVENTLOG_BENCH_PHASES=spread|hot,
// WHARF_EVENTLOG_*, WHARF_TEST_EVENTLOG_NODE_ARGS (node flags of the event-log, e.g. --trace-gc),
// EVENTLOG_BENCH_SERVER_OUTPUT=FILE (its output, written at the end), EVENTLOG_BENCH_CLIENT_NODE_ARGS.
import { create } from '@bufbuild/protobuf';
import { eventlogV1 } from '@wharf/contracts';
import { createEtcdClient } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { createClient, type ServiceClient } from '@wharf/grpc';
import { clientSecurity, startEtcd, startEventLog } from '@wharf/testing';
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedUser } from '../services/event-log/test/seed';

const INGEST_PRODUCERS = 4;
const INGEST_BATCH = 1000;
const INGEST_MS = 5000;
const SPREAD_OPS = 100;
// EVENTLOG_BENCH_SCALE (0-1) shrinks the client counts, to see how latency depends on load.
const SCALE = Math.min(1, Math.max(0.01, Number(process.env.EVENTLOG_BENCH_SCALE ?? 1)));
const SPREAD_WATCHERS = Math.max(1, Math.round(10 * SCALE));
const SPREAD_RATE = 5000;
const HOT_CLIENTS = Math.max(1, Math.round(1000 * SCALE));
const HOT_RATE = 500;
const WARMUP_MS = 2000;
const MEASURE_MS = 6000;
const AFTER_DROP_MS = 4000;
const TICK_MS = 10;
const CHILDREN = 2;

const log = (msg: string) => process.stderr.write(`${msg}\n`);
type Grpc = ServiceClient<typeof eventlogV1.EventLogService>;

async function fsyncBaseline(dir: string): Promise<number> {
  const fh = await open(join(dir, 'baseline'), 'w');
  const buf = Buffer.alloc(4096, 1);
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < 1000 && n < 5000) {
    await fh.write(buf, 0, buf.length, n * buf.length);
    await fh.datasync();
    n++;
  }
  await fh.close();
  return n / ((performance.now() - start) / 1000);
}

async function ingest(grpc: Grpc): Promise<number> {
  const text = 'x'.repeat(80);
  let acked = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: INGEST_PRODUCERS }, async (_, p) => {
      const producer = `ingest-${p}`;
      let seq = 0;
      while (performance.now() - start < INGEST_MS) {
        const frames = Array.from({ length: INGEST_BATCH }, (_, i) =>
          create(eventlogV1.FrameSchema, {
            eventId: `ingest-${p}-${i % 10}`,
            producer,
            producerSeq: BigInt(++seq),
            body: { case: 'line', value: { timeMs: BigInt(Date.now()), text } },
          }),
        );
        const res = await grpc.append({ frames }, { timeoutMs: 10_000 });
        acked += res.accepted;
      }
    }),
  );
  return acked / ((performance.now() - start) / 1000);
}

class Subscribers {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, (m: Record<string, unknown>) => void>();

  constructor() {
    this.child = fork(join(__dirname, 'eventlog-subscribers.ts'), [], {
      execArgv: ['-r', '@swc-node/register', ...(process.env.EVENTLOG_BENCH_CLIENT_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: Record<string, unknown>) => {
      for (const [key, resolve] of this.waiting) {
        if (!(key in m)) continue;
        this.waiting.delete(key);
        resolve(m);
      }
    });
  }

  ask<T>(msg: Record<string, unknown>, replyKey: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`subscribers: no ${replyKey} within 120 s`)), 120_000);
      this.waiting.set(replyKey, (m) => (clearTimeout(timer), resolve(m[replyKey] as T)));
      this.child.send(msg);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  tell(msg: Record<string, unknown>): void {
    this.child.send(msg);
  }

  async exit(): Promise<void> {
    this.child.send({ cmd: 'exit' });
    await new Promise((r) => this.child.once('exit', r));
  }
}

interface Report {
  /** CPU use during the measured window (Linux only). */
  cpu?: ReturnType<ReturnType<typeof cpuWindow>>;
  /** A sorted sample of latencies (ms), for merging percentiles across children. */
  sample: number[];
  samples: number;
  p50: number;
  p99: number;
  max: number;
  lost: number;
  dup: number;
  reconnects: number;
  clients: number;
}

function merge(reports: Report[]): Report {
  const sample = reports.flatMap((r) => r.sample).sort((a, b) => a - b);
  const pct = (p: number) => sample[Math.min(sample.length - 1, Math.ceil((p / 100) * sample.length) - 1)];
  const sum = (k: 'samples' | 'lost' | 'dup' | 'reconnects' | 'clients') => reports.reduce((a, r) => a + r[k], 0);
  return {
    sample: [],
    samples: sum('samples'),
    p50: pct(50),
    p99: pct(99),
    max: sample[sample.length - 1],
    lost: sum('lost'),
    dup: sum('dup'),
    reconnects: sum('reconnects'),
    clients: sum('clients'),
  };
}

/**
 * CPU use over a window, from Linux's /proc (undefined elsewhere): how busy the whole machine
 * was and how many cores each named process used. Latency on a saturated machine is queueing
 * for a CPU; this says whether a run was saturated and who used the CPU.
 */
function cpuWindow(pids: Record<string, number>): () => { machine_busy: number; cores: Record<string, number> } | undefined {
  const tick = 100; // USER_HZ: /proc times are in 1/100 s on Linux
  const machine = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3] + (f[4] || 0), total: f.reduce((a, b) => a + b, 0) };
  };
  // utime + stime of every thread of the process (fields 14 and 15, after the command in parentheses).
  const used = (pid: number) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(f[11]) + Number(f[12])) / tick;
    } catch {
      return NaN;
    }
  };
  let start: { m: { idle: number; total: number }; p: Record<string, number>; t: number };
  try {
    start = { m: machine(), p: Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, used(pid)])), t: performance.now() };
  } catch {
    return () => undefined;
  }
  return () => {
    const m = machine();
    const secs = (performance.now() - start.t) / 1000;
    const cores = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, Math.round(((used(pid) - start.p[k]) / secs) * 100) / 100]));
    return { machine_busy: Math.round((1 - (m.idle - start.m.idle) / (m.total - start.m.total)) * 100) / 100, cores };
  };
}

/** Writes `rate` lines/s spread round-robin over `ops`, each line stamped with its time, until stopped. */
function produce(grpc: Grpc, ops: string[], rate: number, tenantId: string): { stop(): Promise<number> } {
  let sent = 0;
  let running = true;
  let cursor = 0;
  const start = performance.now();
  const inflight = new Set<Promise<unknown>>();
  const loop = (async () => {
    while (running) {
      const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent;
      if (due > 0) {
        const now = BigInt(Date.now());
        const frames = Array.from({ length: due }, () => {
          const eventId = ops[cursor++ % ops.length];
          return create(eventlogV1.FrameSchema, { eventId, tenantId, body: { case: 'line', value: { timeMs: now, text: `line ${sent} of the bench` } } });
        });
        sent += due;
        const p = grpc.append({ frames }, { timeoutMs: 10_000 }).catch((err) => log(`append failed: ${(err as Error).message}`));
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await Promise.all(inflight);
      return sent / ((performance.now() - start) / 1000);
    },
  };
}

async function lastSeqs(grpc: Grpc, ops: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const id of ops) out[id] = Number((await grpc.read({ eventId: id, limit: 1 })).operation!.lastSeq);
  return out;
}

/** The spread pattern over a bare socket.io server: every line broadcast to its room at once. */
async function bareSocketIo(ops: string[], subs: string[], rate: number): Promise<Report> {
  const http = createServer();
  const io = new Server(http, { transports: ['websocket'] });
  io.on('connection', (socket) => {
    socket.on('subscribe', (b: { event_id?: unknown }, ack?: (a: unknown) => void) => {
      if (typeof b?.event_id === 'string') void socket.join(`op:${b.event_id}`);
      ack?.({ ok: true });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  const children = Array.from({ length: CHILDREN }, () => new Subscribers());
  try {
    await Promise.all(children.map((c, k) => c.ask({ cmd: 'start', url, token: 'unused', subs: subs.filter((_, i) => i % CHILDREN === k) }, 'ready')));
    const seqs: Record<string, number> = Object.fromEntries(ops.map((id) => [id, 0]));
    let sent = 0;
    let cursor = 0;
    const start = performance.now();
    const timer = setInterval(() => {
      const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent;
      const now = Date.now();
      for (let i = 0; i < due; i++) {
        const id = ops[cursor++ % ops.length];
        const entry = { seq: ++seqs[id], stored_ms: now, type: 'line', time_ms: now, level: 'info', step: '', text: `line ${sent + i} of the bench` };
        io.to(`op:${id}`).emit('entries', { event_id: id, entries: [entry] });
      }
      sent += Math.max(0, due);
    }, TICK_MS);
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    for (const c of children) c.tell({ cmd: 'measure', on: true });
    const cpu = cpuWindow({ server: process.pid, ...Object.fromEntries(children.map((c, k) => [`clients${k}`, c.pid])) });
    await new Promise((r) => setTimeout(r, MEASURE_MS));
    const used = cpu();
    for (const c of children) c.tell({ cmd: 'measure', on: false });
    clearInterval(timer);
    const report = merge(await Promise.all(children.map((c) => c.ask<Report>({ cmd: 'report', expected: seqs, deadlineMs: 10_000 }, 'report'))));
    log(`baseline (bare socket.io, spread pattern): p50 ${report.p50} ms p99 ${report.p99} ms, lost ${report.lost}; cpu ${JSON.stringify(used)}`);
    return { ...report, cpu: used };
  } finally {
    await Promise.all(children.map((c) => c.exit()));
    await io.close();
  }
}

/** Subscribers on ops; warm-up, measured window, cut every transport, run on, then lost/dup. */
async function phase(
  name: string,
  grpc: Grpc,
  urls: string[],
  serverPid: number,
  token: string,
  ops: string[],
  subs: string[],
  rate: number,
): Promise<Report & { rate: number }> {
  // Operations exist before anyone subscribes (their first line names the tenant).
  await grpc.append({
    frames: ops.map((eventId) => ({ eventId, tenantId: 'bench', body: { case: 'line' as const, value: { timeMs: BigInt(Date.now()), text: 'start' } } })),
  });
  // Two processes share the clients: no single one saturates a core and queues what it receives.
  const children = Array.from({ length: CHILDREN }, () => new Subscribers());
  const t0 = performance.now();
  await Promise.all(
    children.map((c, k) => c.ask({ cmd: 'start', url: urls[k % urls.length], token, subs: subs.filter((_, i) => i % CHILDREN === k) }, 'ready')),
  );
  log(`${name}: ${subs.length} clients subscribed in ${Math.round(performance.now() - t0)} ms`);
  const producer = produce(grpc, ops, rate, 'bench');
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  for (const c of children) c.tell({ cmd: 'measure', on: true });
  // The producer runs in this process: "bench" is the producer (and this driver).
  const cpu = cpuWindow({ 'event-log': serverPid, bench: process.pid, ...Object.fromEntries(children.map((c, k) => [`clients${k}`, c.pid])) });
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  const used = cpu();
  for (const c of children) c.tell({ cmd: 'measure', on: false });
  log(`${name}: cpu ${JSON.stringify(used)}`);
  const metrics = await (await fetch(`${urls[0]}/metrics`)).text();
  const lag = metrics
    .split('\n')
    .filter((l) =>
      /^wharf_eventlog_(nodejs_(eventloop_lag_(p50|p99)_seconds|heap_size_used_bytes|gc_duration_seconds_(sum|count))|(commit|broadcast_delay|stream_handoff)_seconds_bucket|streaming_loop_utilisation|load_batch_ms|catchup_seconds_count|socket_subscriptions|entries_emitted_total)/.test(
        l,
      ),
    )
    .map((l) => l.replace('wharf_eventlog_nodejs_', ''))
    .join(' ');
  log(`${name}: server ${lag}`);
  await Promise.all(children.map((c) => c.ask({ cmd: 'drop' }, 'dropped')));
  await new Promise((r) => setTimeout(r, AFTER_DROP_MS));
  const achieved = await producer.stop();
  const expected = await lastSeqs(grpc, ops);
  const reports = await Promise.all(children.map((c) => c.ask<Report>({ cmd: 'report', expected, deadlineMs: 30_000 }, 'report')));
  const report = merge(reports);
  const perSlot = (k: string) => reports.map((r) => JSON.stringify((r as unknown as Record<string, number[]>)[k])).join(' | ');
  log(
    `${name}: producer->server p50/p99 ${perSlot('producer_to_server_p50')}/${perSlot('producer_to_server_p99')} ms; server->client p50/p99 ${perSlot('server_to_client_p50')}/${perSlot('server_to_client_p99')} ms`,
  );
  log(`${name}: worst latency per 250 ms: ${perSlot('worst_per_250ms')}; client event-loop stalls: ${perSlot('stall_per_250ms')}`);
  log(`${name}: of which producer->server: ${perSlot('worst_to_server_per_250ms')}; server->client: ${perSlot('worst_from_server_per_250ms')}`);
  await Promise.all(children.map((c) => c.exit()));
  log(`${name}: ${JSON.stringify({ ...report, rate: Math.round(achieved) })}`);
  return { ...report, rate: achieved, cpu: used };
}

async function main(): Promise<void> {
  // BENCH_TLS=0 (diagnosis only): etcd, mq and clients without TLS (WHARF_INSECURE_DEV), to see what TLS costs.
  const etcd = await startEtcd({ tls: process.env.BENCH_TLS !== '0' });
  const etcdClient = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  const store = new EtcdEventStore({ client: etcdClient });
  const token = await seedUser(store, 'bench', ['bench']);
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-bench-eventlog-'));
  const serverEnv = {
    WHARF_EVENTLOG_RATE_PER_SENDER: '1000000',
    WHARF_EVENTLOG_RATE_BURST: '1000000',
    WHARF_LOG_LEVEL: 'warn',
    // WHARF_EVENTLOG_* from the environment reach the server (to try other settings).
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('WHARF_EVENTLOG_'))),
  };
  const el = await startEventLog(etcd, dataDir, serverEnv);
  const grpc = createClient(eventlogV1.EventLogService, el.grpc, { security: clientSecurity(etcd, 'api-gateway') });
  try {
    const fsyncs = await fsyncBaseline(dataDir);
    log(`baseline: ${Math.round(fsyncs)} write+fdatasync/s on the data disk`);
    // EVENTLOG_BENCH_SKIP_INGEST=1 (diagnosis only): the stream phases on a fresh instance.
    const ingestRate = process.env.EVENTLOG_BENCH_SKIP_INGEST ? NaN : await ingest(grpc);
    log(`ingest: ${Math.round(ingestRate)} lines/s acknowledged (durable)`);

    const spreadOps = Array.from({ length: SPREAD_OPS }, (_, i) => `spread-${i}`);
    const spreadSubs = spreadOps.flatMap((id) => Array.from({ length: SPREAD_WATCHERS }, () => id));
    const urls = [el.url];
    // EVENTLOG_BENCH_PHASES=spread|hot (diagnosis only): run one stream phase.
    const only = process.env.EVENTLOG_BENCH_PHASES;
    const skipped = { p50: NaN, p99: NaN, rate: NaN, clients: 0, lost: 0, dup: 0 } as Report & { rate: number };
    const bare = only && only !== 'spread' ? skipped : await bareSocketIo(spreadOps, spreadSubs, SPREAD_RATE);
    const spread = only && only !== 'spread' ? skipped : await phase('spread', grpc, urls, el.process.pid, token, spreadOps, spreadSubs, SPREAD_RATE);
    const hot =
      only && only !== 'hot'
        ? skipped
        : await phase(
            'hot',
            grpc,
            urls,
            el.process.pid,
            token,
            ['hot-0'],
            Array.from({ length: HOT_CLIENTS }, () => 'hot-0'),
            HOT_RATE,
          );
    log(
      `summary: spread p50 ${spread.p50} ms p99 ${spread.p99} ms (bare socket.io p50 ${bare.p50} ms p99 ${bare.p99} ms); hot p50 ${hot.p50} ms p99 ${hot.p99} ms`,
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'eventlog',
        ingest_lines_per_s: Math.round(ingestRate),
        p99_ms: Math.round(spread.p99 * 10) / 10,
        rate: Math.round(spread.rate),
        subscribers: spread.clients,
        hot_p99_ms: Math.round(hot.p99 * 10) / 10,
        lost: spread.lost + hot.lost,
        dup: spread.dup + hot.dup,
        bare_socketio_p99_ms: Math.round(bare.p99 * 10) / 10,
        // How busy the machine's CPUs were while spread and its baseline were measured (0-1).
        spread_machine_busy: spread.cpu?.machine_busy ?? null,
        bare_machine_busy: bare.cpu?.machine_busy ?? null,
      })}\n`,
    );
  } finally {
    grpc.close();
    await el.stop();
    if (process.env.EVENTLOG_BENCH_SERVER_OUTPUT) writeFileSync(process.env.EVENTLOG_BENCH_SERVER_OUTPUT, el.process.output());
    etcdClient.close();
    await etcd.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench eventlog failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
