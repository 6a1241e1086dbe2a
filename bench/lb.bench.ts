// npm run bench -- lb
// The gateway against real nginx and containers, on loopback and the bench's own Docker
// network, keep-alive clients (wrk), every phase bounded in time:
//   via_lb_rps / direct_rps  requests/s through the gateway and straight to the same replica,
//                            alternating rounds in the same run (medians), ratio = via / direct
//   route_live_p99_ms        from a route's event appended to its first 200 through the gateway
//   errors_during_reload     failed requests (socket errors + non-2xx) of a keep-alive load while
//                            20 HTTP routes and 20 TCP routes change (TCP routes reload the
//                            stream nginx; HTTP routes swap the Lua table, no reload)
//   errors_during_endpoint_change  the same during 20 endpoint changes
// Besides: plain_proxy_rps (a plain nginx proxy, static upstream, no Lua, to the same replica: the
// cost of one proxy hop on this machine), plain_reload_errors (the same load during 20 plain `nginx -s reload` of the http
// instance, what the design avoids), http_reloads and stream_reloads (from lb-manager's metrics).
import { createEtcdClient, KeyLayout } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { dockerClient, freePort, startEtcd } from '@wharf/testing';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { webImage } from '../services/lb-manager/test/images';
import { RouteEvents, setEndpoints, startLbManager, TestNetwork, viaGateway, type Spec } from '../services/lb-manager/test/harness';

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROUND_S = Number(process.env.BENCH_ROUND_S ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);

interface WrkResult {
  rps: number;
  requests: number;
  errors: number;
  detail: string;
}

/** wrk (Debian's), keep-alive, bounded by its duration; errors = socket errors + non-2xx/3xx. */
function wrk(url: string, seconds: number, host?: string): Promise<WrkResult> {
  const args = ['-t2', `-c${CONNECTIONS}`, `-d${seconds}s`, '--timeout', '5s', ...(host ? ['-H', `Host: ${host}`] : []), url];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (seconds + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(new Error(`wrk failed: ${err.message} ${stdout}`));
      const num = (re: RegExp) => Number(stdout.match(re)?.[1] ?? 0);
      const sock = stdout.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
      const socketErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
      const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
      resolve({
        rps: num(/Requests\/sec:\s+([\d.]+)/),
        requests: num(/(\d+) requests in/),
        errors: socketErrors + non2xx,
        detail: `${sock ? sock[0] : 'no socket errors'}; non-2xx ${non2xx}`,
      });
    });
  });
}

/** A plain nginx reverse proxy in a temp prefix of its own (the baseline of one proxy hop); stopped by pid. */
async function startPlainProxy(upstream: string): Promise<{ port: number; stop(): Promise<void> }> {
  const prefix = mkdtempSync(join(tmpdir(), 'wharf-lbbench-plain-'));
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${prefix}/${t};`).join(' ');
  const conf = `worker_processes auto; pid ${prefix}/nginx.pid; error_log ${prefix}/error.log warn; events { worker_connections 4096; }
http { ${temp} access_log off; upstream u { server ${upstream}; keepalive 256; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://u; proxy_http_version 1.1; proxy_set_header Connection ""; } } }\n`;
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  await new Promise<void>((resolve, reject) =>
    execFile('/usr/sbin/nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve())),
  );
  const pid = Number(readFileSync(join(prefix, 'nginx.pid'), 'utf8'));
  return {
    port,
    async stop() {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await sleep(50);
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.99) - 1)];

async function main(): Promise<void> {
  const docker = dockerClient();
  const run = randomBytes(3).toString('hex');
  const net = new TestNetwork(docker, `wharf-lbbench-${run}`);
  // BENCH_TLS=0 (diagnosis only): etcd and lb-manager without TLS (WHARF_INSECURE_DEV), to see what TLS costs.
  const etcd = await startEtcd({ tls: process.env.BENCH_TLS !== '0' });
  const client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  const keys = new KeyLayout('/wharf');
  const routes = new RouteEvents(new EtcdEventStore({ client, keys }));
  const image = await webImage(docker, `wharf-lbbench-web:${run}`, 'bench');
  let lb: Awaited<ReturnType<typeof startLbManager>> | undefined;
  try {
    await net.create();
    const replicas = [await net.run(image, 'r1'), await net.run(image, 'r2'), await net.run(image, 'r3')];
    await routes.tenant('t1', 'acme');
    await routes.app('a1', 't1', 'shop');
    lb = await startLbManager(etcd);
    const gateway = lb;
    const HOST = 'bench.example.com';
    const web = (extra: NonNullable<NonNullable<Spec>['routes']> = [], tcpPort?: number): Spec => ({
      name: 'web',
      ports: [
        { port: 8080, protocol: 'http', public: true },
        { port: 7000, protocol: 'tcp' },
      ],
      routes: [{ host: HOST, pathPrefix: '/', port: 8080 }, ...extra],
      tcpPorts: tcpPort ? [{ listenPort: tcpPort, port: 7000 }] : [],
    });
    await setEndpoints(client, keys, 'a1.web', [replicas[0].address]);
    await routes.component('a1.web', 'a1', 't1', web());
    for (let i = 0; i < 500 && (await viaGateway(gateway.httpPort, HOST).catch(() => undefined))?.status !== 200; i++) await sleep(10);

    // 1. Throughput: one replica, through the gateway and direct, alternating rounds. Besides, a
    // plain nginx proxy (static upstream, no Lua, no log) to the same replica: what the extra hop
    // alone costs on this machine, so the gateway's own share (router, balancer, log) shows.
    const plain = await startPlainProxy(`${replicas[0].address}:8080`);
    const via: number[] = [];
    const direct: number[] = [];
    const plainRps: number[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        direct.push((await wrk(`http://${replicas[0].address}:8080/`, ROUND_S)).rps);
        via.push((await wrk(`http://127.0.0.1:${gateway.httpPort}/`, ROUND_S, HOST)).rps);
        plainRps.push((await wrk(`http://127.0.0.1:${plain.port}/`, ROUND_S)).rps);
        log(`round ${round + 1}: direct ${direct.at(-1)} rps, via lb ${via.at(-1)} rps, plain nginx proxy ${plainRps.at(-1)} rps`);
      }
    } finally {
      await plain.stop();
    }

    // 2. Route live: append a route, poll until it answers 200 (bounded: 5 s a route).
    const live: number[] = [];
    for (let i = 0; i < 50; i++) {
      const host = `live-${i}.example.com`;
      const t0 = performance.now();
      await routes.update('a1.web', web([{ host, pathPrefix: '/', port: 8080 }]));
      for (let j = 0; j < 2500; j++) {
        if ((await viaGateway(gateway.httpPort, host).catch(() => undefined))?.status === 200) break;
        if (performance.now() - t0 > 5000) break;
        await sleep(2);
      }
      live.push(performance.now() - t0);
    }
    log(`route live: p50 ${median(live).toFixed(1)} ms, p99 ${p99(live).toFixed(1)} ms`);

    // 3. Errors during 20 HTTP route changes and 20 TCP route changes, under keep-alive load.
    const reloadsBefore = await gateway.metric('wharf_lb_nginx_reloads_total', 'instance="stream"');
    const duringRoutes = wrk(`http://127.0.0.1:${gateway.httpPort}/`, 14, HOST);
    await sleep(1000);
    for (let i = 0; i < 20; i++) {
      await routes.update('a1.web', web(i % 2 ? [] : [{ host: HOST, pathPrefix: `/only-${i}`, port: 8080 }]));
      await sleep(150);
      await routes.update('a1.web', web([], 21000 + i));
      await sleep(350);
    }
    const routesResult = await duringRoutes;
    const streamReloads = (await gateway.metric('wharf_lb_nginx_reloads_total', 'instance="stream"')) - reloadsBefore;
    log(
      `during 20 HTTP + 20 TCP route changes: ${routesResult.requests} requests, ${routesResult.errors} errors (${routesResult.detail}); stream reloads ${streamReloads}`,
    );

    // 4. Errors during 20 endpoint changes.
    const sets = [[0, 1, 2], [1], [0, 2], [2], [0]];
    const duringEndpoints = wrk(`http://127.0.0.1:${gateway.httpPort}/`, 10, HOST);
    await sleep(1000);
    for (let i = 0; i < 20; i++) {
      await setEndpoints(
        client,
        keys,
        'a1.web',
        sets[i % sets.length].map((n) => replicas[n].address),
      );
      await sleep(350);
    }
    const endpointsResult = await duringEndpoints;
    log(`during 20 endpoint changes: ${endpointsResult.requests} requests, ${endpointsResult.errors} errors (${endpointsResult.detail})`);

    // 5. For comparison: the same load during 20 plain reloads of the http instance.
    const pid = Number(readFileSync(join(gateway.dataDir, 'http', 'run', 'nginx.pid'), 'utf8'));
    const duringPlain = wrk(`http://127.0.0.1:${gateway.httpPort}/`, 10, HOST);
    await sleep(1000);
    for (let i = 0; i < 20; i++) {
      process.kill(pid, 'SIGHUP');
      await sleep(350);
    }
    const plainResult = await duringPlain;
    log(`during 20 plain reloads of the http instance: ${plainResult.requests} requests, ${plainResult.errors} errors (${plainResult.detail})`);

    const httpReloads = await gateway.metric('wharf_lb_nginx_reloads_total', 'instance="http"');
    const viaRps = Math.round(median(via));
    const directRps = Math.round(median(direct));
    log(
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} on ${cpus().length} cores`,
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'lb',
        via_lb_rps: viaRps,
        direct_rps: directRps,
        ratio: Number((viaRps / directRps).toFixed(3)),
        route_live_p99_ms: Number(p99(live).toFixed(1)),
        errors_during_reload: routesResult.errors,
        errors_during_endpoint_change: endpointsResult.errors,
        plain_proxy_rps: Math.round(median(plainRps)),
        plain_reload_errors: plainResult.errors,
        http_reloads: httpReloads,
        stream_reloads: streamReloads,
        load_average_1m: Number(loadavg()[0].toFixed(2)),
      })}\n`,
    );
  } finally {
    await lb?.stop();
    await net.destroy();
    await docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
    client.close();
    await etcd.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`bench lb failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
