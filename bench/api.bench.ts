// npm run bench -- api
// With 10,000 components in the event store: p50/p99 of GET component and of a paged
// list at a fixed request rate (autocannon, loopback, bounded), and the cold start time of
// the api-gateway after a restart. The JSON line is printed last.
import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { createEtcdClient } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { startEtcd, startMq, type RunningMq } from '@wharf/testing';
import { client, startApi, type RunningApi } from '../services/api-gateway/test/api-harness';
import { Agent, request } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Collects this process's garbage (seeding, earlier phases) so the loader's own GC does not land in a measurement. */
const collect = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

const COMPONENTS = Number(process.env.BENCH_COMPONENTS ?? 10_000);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const DURATION_S = 10;
const log = (msg: string) => process.stderr.write(`${msg}\n`);

/**
 * Open-loop load at a fixed rate: every millisecond it sends what is due, whether or not
 * earlier requests have answered, and measures each latency from the request's scheduled
 * time (so a stall is not hidden by sending less: no coordinated omission). Keep-alive
 * connections, bounded in count and time.
 */
async function load(
  url: string,
  token: string,
  path: () => string,
  durationS = DURATION_S,
): Promise<{ p50: number; p99: number; rps: number; errors: number; non2xx: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const { hostname, port } = new URL(url);
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let sent = 0;
  const total = RATE * durationS;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  await new Promise<void>((done) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE));
      for (; sent < due; sent++) {
        const scheduled = start + (sent * 1000) / RATE;
        inflight.push(
          new Promise<void>((resolve) => {
            const req = request({ agent, hostname, port, path: path(), headers: { authorization: `Bearer ${token}` }, timeout: 10_000 }, (res) => {
              res.resume();
              res.on('end', () => {
                if (res.statusCode! >= 300) non2xx++;
                latencies.push(performance.now() - scheduled);
                resolve();
              });
            });
            req.on('error', () => (errors++, resolve()));
            req.on('timeout', () => req.destroy(new Error('timeout')));
            req.end();
          }),
        );
      }
      if (sent >= total) {
        clearInterval(tick);
        done();
      }
    }, 1);
  });
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Number(latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)].toFixed(2));
  return { p50: pct(0.5), p99: pct(0.99), rps: latencies.length / elapsed, errors, non2xx };
}

async function main(): Promise<void> {
  // BENCH_TLS=0 (diagnosis only): etcd, mq and clients without TLS (WHARF_INSECURE_DEV), to see what TLS costs.
  const etcd = await startEtcd({ tls: process.env.BENCH_TLS !== '0' });
  let mq: RunningMq | undefined;
  let api: RunningApi | undefined;
  try {
    mq = await startMq(etcd);
    api = await startApi(etcd, mq.grpc);
    const token = api.adminToken!;
    const admin = client(api.url, token);
    await admin('POST', '/api/v1/tenants', { name: 'bench' });
    await admin('POST', '/api/v1/tenants/bench/apps', { name: 'app' });

    // Seed straight into the event store (bounded concurrency): what the API would have appended.
    const etcdClient = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    const store = new EtcdEventStore({ client: etcdClient });
    const seedStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < COMPONENTS) {
          const i = next++;
          const id = `bench.app.c${i}`;
          const spec = create(eventsV1.ComponentSpecSchema, {
            name: `c${i}`,
            source: { case: 'image', value: { image: 'nginx:1.27' } },
            ports: [{ port: 80, protocol: 'http' }],
            env: [{ name: 'MODE', value: 'prod' }],
            cpuMillis: 100,
            memoryMib: 128,
            replicas: 1,
          });
          await store.append(
            `component/${id}`,
            [{ message: create(eventsV1.ComponentCreatedSchema, { componentId: id, appId: 'bench.app', tenantId: 'bench', spec }), actor: 'service:bench' }],
            0,
          );
        }
      }),
    );
    etcdClient.close();
    log(`seeded ${COMPONENTS} components in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

    // Cold start: a fresh process until it serves a component.
    await api.stop();
    const t0 = performance.now();
    api = await startApi(etcd, mq.grpc);
    const probe = client(api.url, token);
    while ((await probe('GET', '/api/v1/tenants/bench/components/bench.app.c0')).status !== 200) await new Promise((r) => setTimeout(r, 10));
    const coldStart = (performance.now() - t0) / 1000;
    log(`cold start with ${COMPONENTS} components: ${coldStart.toFixed(2)} s`);

    // Warm-up after the cold start, not measured (cold start is measured above): JIT, connection
    // pool, and every component read once (its view is built on the first read after a change,
    // as any component has been after a while of normal traffic).
    let warm = 0;
    await load(api.url, token, () => `/api/v1/tenants/bench/components/bench.app.c${warm++ % COMPONENTS}`, Math.ceil(COMPONENTS / RATE) + 1);
    collect();
    const get = await load(api.url, token, () => `/api/v1/tenants/bench/components/bench.app.c${Math.floor(Math.random() * COMPONENTS)}`);
    log(`GET component @${RATE}/s: ${get.rps.toFixed(0)} req/s, p50 ${get.p50} ms, p99 ${get.p99} ms, errors ${get.errors}, non-2xx ${get.non2xx}`);
    const cursors = Array.from({ length: 100 }, (_, i) => `bench.app.c${Math.floor((i * COMPONENTS) / 100)}`);
    await load(
      api.url,
      token,
      () => `/api/v1/tenants/bench/apps/bench.app/components?limit=50&cursor=${cursors[Math.floor(Math.random() * cursors.length)]}`,
      2,
    );
    collect();
    const list = await load(
      api.url,
      token,
      () => `/api/v1/tenants/bench/apps/bench.app/components?limit=50&cursor=${cursors[Math.floor(Math.random() * cursors.length)]}`,
    );
    log(`list (50 per page) @${RATE}/s: ${list.rps.toFixed(0)} req/s, p50 ${list.p50} ms, p99 ${list.p99} ms, errors ${list.errors}, non-2xx ${list.non2xx}`);
    // Baseline in the same run: the HTTP stack and this loader alone (no auth, no catalog).
    collect();
    const health = await load(api.url, token, () => '/health');
    log(`baseline GET /health @${RATE}/s: ${health.rps.toFixed(0)} req/s, p50 ${health.p50} ms, p99 ${health.p99} ms`);
    if (get.non2xx || list.non2xx || get.errors || list.errors) log('WARNING: some requests failed; the latencies above include them');
    process.stdout.write(
      JSON.stringify({
        bench: 'api',
        p99_get_ms: get.p99,
        p99_list_ms: list.p99,
        rate: RATE,
        cold_start_s: Number(coldStart.toFixed(2)),
        components: COMPONENTS,
        p99_health_ms: health.p99,
      }) + '\n',
    );
  } finally {
    await api?.stop();
    await mq?.stop();
    await etcd.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
