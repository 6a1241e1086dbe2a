import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { dockerClient, startEtcd, type EtcdInstance } from '@wharf/testing';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { webImage } from '../test/images';
import { startKeepAliveLoad, type LoadResult } from '../test/keepalive-load';
import { RouteEvents, setEndpoints, startLbManager, TestNetwork, viaGateway, within, type RunningLbManager, type Spec } from '../test/harness';

// Zero failed requests for keep-alive clients while routes and endpoints change: a constant,
// bounded load (8 keep-alive connections on 127.0.0.1) runs through the gateway during 20
// route changes, 20 endpoint changes and a rolling upgrade of the target component. Every
// request without its 200 counts, and so does every one without an answer (a read error).
jest.setTimeout(180_000);

const docker = dockerClient();
const run = randomBytes(3).toString('hex');
const net = new TestNetwork(docker, `wharf-lblive-${run}`);
let etcd: EtcdInstance;
let client: Etcd3;
let routes: RouteEvents;
let lb: RunningLbManager;
const keys = new KeyLayout('/wharf');
const images = { v1: '', v2: '' };
const HOST = 'load.example.com';
const spec = (extra: NonNullable<NonNullable<Spec>['routes']> = []): Spec => ({
  name: 'api',
  ports: [{ port: 8080, protocol: 'http', public: true }],
  routes: [{ host: HOST, pathPrefix: '/', port: 8080 }, ...extra],
});

beforeAll(async () => {
  etcd = await startEtcd();
  client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  routes = new RouteEvents(new EtcdEventStore({ client, keys }));
  [images.v1, images.v2] = await Promise.all([webImage(docker, `wharf-lblive-web:v1-${run}`, 'v1'), webImage(docker, `wharf-lblive-web:v2-${run}`, 'v2')]);
  await net.create();
  await routes.tenant('t1', 'acme');
  await routes.app('a1', 't1', 'shop');
  lb = await startLbManager(etcd);
});

afterAll(async () => {
  await lb?.stop();
  await net.destroy();
  for (const image of Object.values(images))
    if (image)
      await docker
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined);
  client?.close();
  await etcd?.destroy();
});

const report = (what: string, r: LoadResult) =>
  console.log(
    `${what}: ${r.ok} ok, errors ${r.errors} ${JSON.stringify(r.errorSamples)}, other statuses ${JSON.stringify(r.badStatus)}, bodies ${JSON.stringify(r.bodies)}`,
  );

/** Waits until lb-manager serves a table other than `before` (the change reached nginx). */
async function tableMoved(before: string | null): Promise<string> {
  return (
    await within('the routing table to change', 5000, async () => {
      const v = (await lb.routes()).table_version;
      return v !== before && v ? v : undefined;
    })
  ).value;
}

describe('live changes under keep-alive load', () => {
  const replicas: Record<string, { address: string; container: Awaited<ReturnType<TestNetwork['run']>>['container'] }> = {};

  beforeAll(async () => {
    for (const name of ['v1a', 'v1b']) replicas[name] = await net.run(images.v1, name);
    await setEndpoints(client, keys, 'a1.api', [replicas.v1a.address, replicas.v1b.address]);
    await routes.component('a1.api', 'a1', 't1', spec());
    await within('the route to answer', 5000, async () => ((await viaGateway(lb.httpPort, HOST).catch(() => undefined))?.status === 200 ? true : undefined));
  });

  it('fails no request during 20 route changes', async () => {
    const load = startKeepAliveLoad({ port: lb.httpPort, host: HOST, connections: 8, maxMs: 60_000 });
    let version = (await lb.routes()).table_version;
    for (let i = 0; i < 20; i++) {
      // Each change adds or drops routes beside the loaded one, including a longer prefix on its own host.
      await routes.update(
        'a1.api',
        spec(
          i % 2 === 0
            ? [
                { host: HOST, pathPrefix: `/only-${i}`, port: 8080 },
                { host: `extra-${i}.example.com`, pathPrefix: '/', port: 8080 },
              ]
            : [],
        ),
      );
      version = await tableMoved(version);
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await load.stop();
    report('20 route changes', r);
    expect(r.ok).toBeGreaterThan(100);
    expect(r.errors).toBe(0);
    expect(r.badStatus).toEqual({});
    expect(await lb.metric('wharf_lb_nginx_reloads_total', 'instance="http"')).toBe(0);
  });

  it('counts what a reload does to keep-alive clients (the load can fail: this is why routes never reload)', async () => {
    const pid = Number(readFileSync(join(lb.dataDir, 'http', 'run', 'nginx.pid'), 'utf8'));
    const load = startKeepAliveLoad({ port: lb.httpPort, host: HOST, connections: 8, maxMs: 60_000 });
    for (let i = 0; i < 20; i++) {
      process.kill(pid, 'SIGHUP');
      await new Promise((r) => setTimeout(r, 300));
    }
    const r = await load.stop();
    report('20 plain nginx reloads (for comparison)', r);
    expect(r.errors).toBeGreaterThan(0);
  });

  it('fails no request during 20 endpoint changes', async () => {
    replicas.v1c = await net.run(images.v1, 'v1c');
    const sets = [[replicas.v1a, replicas.v1b, replicas.v1c], [replicas.v1b], [replicas.v1a, replicas.v1c], [replicas.v1c]];
    const load = startKeepAliveLoad({ port: lb.httpPort, host: HOST, connections: 8, maxMs: 60_000 });
    let version = (await lb.routes()).table_version;
    for (let i = 0; i < 20; i++) {
      await setEndpoints(
        client,
        keys,
        'a1.api',
        sets[i % sets.length].map((r) => r.address),
      );
      version = await tableMoved(version);
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await load.stop();
    report('20 endpoint changes', r);
    expect(r.ok).toBeGreaterThan(100);
    expect(r.errors).toBe(0);
    expect(r.badStatus).toEqual({});
  });

  it('fails no request during a rolling upgrade (each old replica leaves the endpoints, drains, then stops)', async () => {
    await setEndpoints(client, keys, 'a1.api', [replicas.v1a.address, replicas.v1b.address]);
    const load = startKeepAliveLoad({ port: lb.httpPort, host: HOST, connections: 8, maxMs: 90_000, countBodies: true });
    let serving = [replicas.v1a.address, replicas.v1b.address];
    for (const [old, next] of [
      ['v1a', 'v2a'],
      ['v1b', 'v2b'],
    ]) {
      replicas[next] = await net.run(images.v2, next);
      serving = [...serving, replicas[next].address];
      await setEndpoints(client, keys, 'a1.api', serving);
      serving = serving.filter((a) => a !== replicas[old].address);
      await setEndpoints(client, keys, 'a1.api', serving);
      await tableMoved(null);
      // app-manager's drain (500 ms by default) before it stops the replica.
      await new Promise((r) => setTimeout(r, 500));
      await net.stop(replicas[old].container);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const r = await load.stop();
    report('rolling upgrade', r);
    expect(r.errors).toBe(0);
    expect(r.badStatus).toEqual({});
    expect(r.bodies.v2).toBeGreaterThan(0);
    // Only v2 answers now.
    expect((await viaGateway(lb.httpPort, HOST)).body).toMatch(/^v2 /);
  });
});
