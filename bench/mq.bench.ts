// npm run bench -- mq
// Raw etcd single-key put throughput and, in the same run against the same etcd, full mq
// task round trips (enqueue -> delivery -> ack) with 1 and 4 consumers, and the
// enqueue-to-delivery latency with 4 consumers at a paced, non-saturating rate.
// The etcd puts and the 4-consumer round trips run in alternating rounds so both see the
// same machine (other work on a shared host shifts either figure by tens of percent).
// Everything is on 127.0.0.1 and bounded in count and time. The JSON line is printed last.
import { createEtcdClient, type Etcd3 } from '@wharf/etcd';
import { startEtcd, startMq, type RunningMq } from '@wharf/testing';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const CONCURRENCY = 4; // etcd writers, mq producers and mq consumers
const ROUNDS = 3;
const PUTS = 1500; // per round
const TASKS = 1000; // per round trip phase
const LATENCY_TASKS = 1000;
const WARMUP = 100;
const LATENCY_RATE = 200; // tasks/s during the latency phase
const TIME_CAP_MS = 30_000; // per phase

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** Counts and elapsed time summed over rounds. */
class Rate {
  count = 0;
  ms = 0;
  add(count: number, ms: number): number {
    this.count += count;
    this.ms += ms;
    return count / (ms / 1000);
  }
  get perSecond(): number {
    return this.count / (this.ms / 1000);
  }
}

/** Single-key puts from CONCURRENCY writers: the baseline a round trip is compared with. */
async function etcdPuts(client: Etcd3, round: number, count: number): Promise<[number, number]> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count && performance.now() - start < TIME_CAP_MS) {
        const i = next++;
        await client.put(`/bench/put/${round}/${i}`).value('x'.repeat(64));
      }
    }),
  );
  return [next, performance.now() - start];
}

async function roundTrips(mq: RunningMq, topic: string, consumers: number, tasks: number): Promise<[number, number]> {
  const payload = new Uint8Array(64);
  let enqueued = 0;
  let acked = 0;
  const start = performance.now();
  const deadline = start + TIME_CAP_MS;
  const producers = Array.from({ length: CONCURRENCY }, async (_, p) => {
    while (enqueued < tasks && performance.now() < deadline) {
      const i = enqueued++;
      await mq.client.enqueue({ topic, taskId: `t${p}-${i}`, payload });
    }
  });
  // Consumers hold Subscribe streams with up to 8 tasks in flight each and ack every task.
  const controller = new AbortController();
  let finished!: () => void;
  const allAcked = new Promise<void>((resolve) => (finished = resolve));
  const timeCap = setTimeout(() => finished(), TIME_CAP_MS);
  const workers = Array.from({ length: consumers }, async (_, c) => {
    try {
      const stream = mq.client.subscribe({ topic, consumer: `c${c}`, leaseMs: 30_000, maxInFlight: 8 }, { signal: controller.signal });
      for await (const { delivery: d } of stream) {
        void mq.client.ack({ topic, taskId: d!.task!.taskId, leaseId: d!.leaseId }).then(() => {
          if (++acked >= tasks) finished();
        });
      }
    } catch {
      // cancelled at the end
    }
  });
  await Promise.all(producers);
  await allAcked;
  clearTimeout(timeCap);
  const elapsed = performance.now() - start;
  controller.abort();
  await Promise.all(workers);
  return [acked, elapsed];
}

async function latency(mq: RunningMq, topic: string): Promise<number[]> {
  const sentAt = new Map<string, number>();
  const samples: number[] = [];
  let stop = false;
  // Consumers hold Subscribe streams (the push path), each with up to 4 tasks in flight.
  const controller = new AbortController();
  const workers = Array.from({ length: CONCURRENCY }, async (_, c) => {
    try {
      const stream = mq.client.subscribe({ topic, consumer: `l${c}`, leaseMs: 30_000, maxInFlight: 4 }, { signal: controller.signal });
      for await (const { delivery: d } of stream) {
        if (!d!.task!.taskId.startsWith('warm-')) samples.push(performance.now() - sentAt.get(d!.task!.taskId)!);
        void mq.client.ack({ topic, taskId: d!.task!.taskId, leaseId: d!.leaseId });
        if (stop) break;
      }
    } catch (err) {
      if (!stop) throw err;
    }
  });
  await new Promise((r) => setTimeout(r, 1000)); // consumers are waiting; the previous phase has settled
  // The first WARMUP tasks warm the path (JIT, connections, etcd caches) and are not counted.
  const start = performance.now();
  for (let i = 0; i < WARMUP + LATENCY_TASKS && performance.now() - start < TIME_CAP_MS; i++) {
    const due = start + (i * 1000) / LATENCY_RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = i < WARMUP ? `warm-${i}` : `lat-${i}`;
    sentAt.set(id, performance.now());
    void mq.client.enqueue({ topic, taskId: id, payload: new Uint8Array(64) });
  }
  const until = performance.now() + 10_000;
  while (samples.length < sentAt.size - WARMUP && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
  stop = true;
  controller.abort();
  await Promise.all(workers);
  return samples;
}

async function main(): Promise<void> {
  // BENCH_TLS=0 (diagnosis only): etcd, mq and clients without TLS (WHARF_INSECURE_DEV), to see what TLS costs.
  const etcd = await startEtcd({ tls: process.env.BENCH_TLS !== '0' });
  let mq: RunningMq | undefined;
  const client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  try {
    mq = await startMq(etcd);
    // Warm-up, not counted: connections, JIT, etcd's first compactions of the WAL.
    await etcdPuts(client, -1, 300);
    await roundTrips(mq, 'bench-warm', CONCURRENCY, 300);
    const puts = new Rate();
    const four = new Rate();
    for (let r = 0; r < ROUNDS; r++) {
      const p = puts.add(...(await etcdPuts(client, r, PUTS)));
      const t = four.add(...(await roundTrips(mq, `bench-4-${r}`, 4, TASKS)));
      log(`round ${r + 1}: etcd single-key puts ${p.toFixed(0)}/s, round trips with 4 consumers ${t.toFixed(0)}/s`);
    }
    log(`etcd single-key puts, ${CONCURRENCY} concurrent writers: ${puts.perSecond.toFixed(0)}/s`);
    log(`round trips, ${CONCURRENCY} producers, 4 consumers (Subscribe, 8 in flight each): ${four.perSecond.toFixed(0)}/s`);
    const one = new Rate();
    one.add(...(await roundTrips(mq, 'bench-1', 1, TASKS)));
    log(`round trips, ${CONCURRENCY} producers, 1 consumer: ${one.perSecond.toFixed(0)}/s`);
    // Start the latency phase from a collected heap, so a major GC of this process's own
    // garbage from the phases above does not land in the measurement.
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    const samples = await latency(mq, 'bench-lat');
    log(
      `enqueue-to-delivery, 4 consumers, ${LATENCY_RATE} tasks/s: ${samples.length}/${LATENCY_TASKS} delivered, p50 ${percentile(samples, 50).toFixed(2)} ms, p99 ${percentile(samples, 99).toFixed(2)} ms`,
    );
    const round = (x: number, d = 2) => Number(x.toFixed(d));
    process.stdout.write(
      JSON.stringify({
        bench: 'mq',
        etcd_put_per_s: round(puts.perSecond, 0),
        roundtrip_per_s: round(four.perSecond, 0),
        ratio: round(four.perSecond / puts.perSecond, 3),
        p99_ms: round(percentile(samples, 99)),
      }) + '\n',
    );
  } finally {
    client.close();
    await mq?.stop();
    await etcd.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
