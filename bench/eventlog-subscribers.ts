// Child process of bench/eventlog.bench.ts: holds many socket.io clients, each subscribed to
// one operation, and measures emit-to-client latency (receive time - the line's time_ms, one
// clock: same machine). Driven over IPC by the parent:
//   {cmd:'start', url, token, subs:[eventId...]} -> {ready}
//   {cmd:'measure', on} ; {cmd:'drop'} (every client's transport is cut; it reconnects and
//   resubscribes from its last seq) -> {dropped} ; {cmd:'report', expected:{eventId:lastSeq}}
//   -> {report} once every client has seen its operation's last seq (or the deadline passed).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

interface Client {
  socket: Socket;
  eventId: string;
  last: number;
  received: number;
  /** seqs seen more than once */
  dup: number;
  /** seqs skipped (a gap, never filled) */
  gaps: number;
  reconnects: number;
}

type Entry = { seq: number; type: string; time_ms?: number; stored_ms: number };
const toServer: number[] = [];
/** Sampled time from the server accepting a line to this client receiving it (ms). */
const fromServer: number[] = [];

const send = (m: unknown) => process.send!(m);
let measuring = false;
let latencies = new Float64Array(1 << 20);
let n = 0;
const clients: Client[] = [];
let loopFrozen = { p50: 0, p99: 0 };

let measureStart = 0;
/** Worst latency per 250 ms of the measured window: shows whether a p99 comes from one stall. */
const worst: number[] = [];
/** The same split at the server's accept time (stored_ms): producer->server and server->client. */
const worstToServer: number[] = [];
const worstFromServer: number[] = [];
/** This process's worst event-loop stall per 250 ms (tells client-side pauses from server ones). */
const stalls: number[] = [];
let lastTick = Date.now();
setInterval(() => {
  const now = Date.now();
  if (measuring) {
    const slot = Math.floor((now - measureStart) / 250);
    stalls[slot] = Math.max(stalls[slot] ?? 0, now - lastTick - 10);
  }
  lastTick = now;
}, 10).unref();

function record(ms: number): void {
  const slot = Math.floor((Date.now() - measureStart) / 250);
  if (!(worst[slot] >= ms)) worst[slot] = ms;
  if (n === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
  }
  latencies[n++] = ms;
}

function subscribe(c: Client): void {
  c.socket.emit('subscribe', { event_id: c.eventId, after_seq: c.last }, (ack: { ok: boolean; error?: { code: string } }) => {
    if (!ack.ok && ack.error?.code !== 'already_exists') setTimeout(() => subscribe(c), 100);
  });
}

async function start(url: string, token: string, subs: string[]): Promise<void> {
  let subscribed = 0;
  await new Promise<void>((resolve) => {
    for (const eventId of subs) {
      const socket = io(url, { auth: { token }, transports: ['websocket'], reconnectionDelay: 50, reconnectionDelayMax: 500, forceNew: true });
      const c: Client = { socket, eventId, last: 0, received: 0, dup: 0, gaps: 0, reconnects: 0 };
      clients.push(c);
      let first = true;
      socket.on('connect', () => {
        if (!first) c.reconnects++;
        socket.emit('subscribe', { event_id: eventId, after_seq: c.last }, (ack: { ok: boolean }) => {
          if (!ack.ok) return setTimeout(() => subscribe(c), 100);
          if (first && ++subscribed === subs.length) resolve();
          first = false;
        });
      });
      socket.on('subscription_ended', () => setTimeout(() => subscribe(c), 50));
      socket.on('entries', (m: { entries: Entry[] }) => {
        const now = Date.now();
        for (const e of m.entries) {
          c.received++;
          if (e.seq <= c.last) c.dup++;
          else {
            if (e.seq > c.last + 1) c.gaps += e.seq - c.last - 1;
            c.last = e.seq;
          }
          if (measuring && e.type === 'line' && e.time_ms) {
            record(now - e.time_ms);
            const slot = Math.floor((now - measureStart) / 250);
            if (!(worstToServer[slot] >= e.stored_ms - e.time_ms)) worstToServer[slot] = e.stored_ms - e.time_ms;
            if (!(worstFromServer[slot] >= now - e.stored_ms)) worstFromServer[slot] = now - e.stored_ms;
            if ((n & 63) === 0) {
              toServer.push(e.stored_ms - e.time_ms);
              fromServer.push(now - e.stored_ms);
            }
          }
        }
      });
    }
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function report(expected: Record<string, number>, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until && clients.some((c) => c.last < expected[c.eventId])) await new Promise((r) => setTimeout(r, 50));
  const sample = latencies.slice(0, n).sort();
  let lost = 0;
  let dup = 0;
  let reconnects = 0;
  for (const c of clients) {
    // Everything up to the stored last seq must have arrived exactly once.
    lost += c.gaps + Math.max(0, expected[c.eventId] - c.last);
    dup += c.dup;
    reconnects += c.reconnects;
  }
  // Every 10th latency (sorted) lets the parent merge percentiles over children.
  const every: number[] = [];
  for (let i = 0; i < sample.length; i += 10) every.push(sample[i]);
  send({
    report: {
      sample: every,
      samples: n,
      p50: percentile(sample, 50),
      p99: percentile(sample, 99),
      max: sample.length ? sample[sample.length - 1] : NaN,
      lost,
      dup,
      reconnects,
      clients: clients.length,
      loop_ms: loopFrozen,
      worst_per_250ms: Array.from(worst, (w) => w ?? 0),
      worst_to_server_per_250ms: Array.from(worstToServer, (w) => w ?? 0),
      worst_from_server_per_250ms: Array.from(worstFromServer, (w) => w ?? 0),
      stall_per_250ms: Array.from(stalls, (w) => w ?? 0),
      producer_to_server_p50: toServer.sort((a, b) => a - b)[toServer.length >> 1],
      producer_to_server_p99: toServer[Math.floor(toServer.length * 0.99)],
      server_to_client_p50: fromServer.sort((a, b) => a - b)[fromServer.length >> 1],
      server_to_client_p99: fromServer[Math.floor(fromServer.length * 0.99)],
    },
  });
}

// The parent is gone (finished or crashed): never linger reconnecting.
process.on('disconnect', () => process.exit(0));

process.on(
  'message',
  (m: { cmd: string; url?: string; token?: string; subs?: string[]; on?: boolean; expected?: Record<string, number>; deadlineMs?: number }) => {
    switch (m.cmd) {
      case 'start':
        void start(m.url!, m.token!, m.subs!).then(() => send({ ready: true }));
        break;
      case 'measure':
        measuring = !!m.on;
        if (measuring) {
          n = 0;
          loopDelay.reset();
          measureStart = Date.now();
          worst.length = 0;
          stalls.length = 0;
          worstToServer.length = 0;
          worstFromServer.length = 0;
        } else loopFrozen = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6 };
        break;
      case 'drop':
        // Cut every transport as a network failure would; socket.io reconnects by itself.
        for (const c of clients) (c.socket.io.engine as unknown as { close(): void }).close();
        send({ dropped: clients.length });
        break;
      case 'report':
        void report(m.expected!, m.deadlineMs ?? 20_000);
        break;
      case 'exit':
        for (const c of clients) c.socket.close();
        setTimeout(() => process.exit(0), 50);
        break;
    }
  },
);
