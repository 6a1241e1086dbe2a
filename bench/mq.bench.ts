// npm run bench -- mq
// Raw etcd single-key put throughput and, in the same run against the same etcd, full mq
// task round trips (enqueue -> dequeue -> ack) with 1 and 4 consumers, and the
// enqueue-to-delivery latency with 4 consumers at a paced, non-saturating rate.
// Everything is on 127.0.0.1 and bounded in count and time. The JSON line is printed last.
import { createEtcdClient } from '@wharf/etcd';

import { startEtcd, startMq, type RunningMq } from '@wharf/testing';

const CONCURRENCY = 4; // etcd writers, mq producers and mq consumers
const PUTS = 4000;
const TASKS = 3000;
const LATENCY_TASKS = 1000;
const WARMUP = 100;
const LATENCY_RATE = 200; // tasks/s during the latency phase
const TIME_CAP_MS = 60_000;

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

async function etcdPuts(endpoint: string): Promise<number> {
  const client = createEtcdClient({ endpoints: [endpoint] });
  await client.put('/bench/warm').value('x');
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < PUTS && performance.now() - start < TIME_CAP_MS) {
        const i = next++;
        await client.put(`/bench/put/${i}`).value('x'.repeat(64));
      }
    }),
  );
  const rate = next / ((performance.now() - start) / 1000);
  // For reading the latency figure: one etcd write's own latency, unloaded.
  const single: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    await client.put(`/bench/lat/${i}`).value('x');
    single.push(performance.now() - t0);
  }
  log(`etcd single put latency, sequential: p50 ${percentile(single, 50).toFixed(2)} ms, p99 ${percentile(single, 99).toFixed(2)} ms`);
  client.close();
  return rate;
}

async function roundTrips(mq: RunningMq, topic: string, consumers: number): Promise<number> {
  const payload = new Uint8Array(64);
  let enqueued = 0;
  let acked = 0;
  const start = performance.now();
  const deadline = start + TIME_CAP_MS;
  const producers = Array.from({ length: CONCURRENCY }, async (_, p) => {
    while (enqueued < TASKS && performance.now() < deadline) {
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
          if (++acked >= TASKS) finished();
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
  return acked / (elapsed / 1000);
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
  const etcd = await startEtcd();
  let mq: RunningMq | undefined;
  try {
    mq = await startMq(etcd.endpoint);
    const putRate = await etcdPuts(etcd.endpoint);
    log(`etcd single-key puts, ${CONCURRENCY} concurrent writers: ${putRate.toFixed(0)}/s`);
    const one = await roundTrips(mq, 'bench-1', 1);
    log(`round trips, ${CONCURRENCY} producers, 1 consumer: ${one.toFixed(0)}/s`);
    const four = await roundTrips(mq, 'bench-4', 4);
    log(`round trips, ${CONCURRENCY} producers, 4 consumers: ${four.toFixed(0)}/s`);
    const samples = await latency(mq, 'bench-lat');
    log(`enqueue-to-delivery, 4 consumers, ${LATENCY_RATE} tasks/s: ${samples.length}/${LATENCY_TASKS} delivered, p50 ${percentile(samples, 50).toFixed(2)} ms, p99 ${percentile(samples, 99).toFixed(2)} ms`);
    const round = (x: number, d = 2) => Number(x.toFixed(d));
    process.stdout.write(
      JSON.stringify({ bench: 'mq', etcd_put_per_s: round(putRate, 0), roundtrip_per_s: round(four, 0), ratio: round(four / putRate, 3), p99_ms: round(percentile(samples, 99)) }) + '\n',
    );
  } finally {
    await mq?.stop();
    await etcd.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
