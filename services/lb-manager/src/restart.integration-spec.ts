import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { dockerClient, startEtcd, type EtcdInstance } from '@wharf/testing';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webImage } from '../test/images';
import { nginxAlive, RouteEvents, setEndpoints, startLbManager, TestNetwork, viaGateway, within, type RunningLbManager } from '../test/harness';

// lb-manager is the control plane, nginx the data plane: when lb-manager dies, nginx keeps
// serving what it had, and the next lb-manager adopts the running masters (no new start,
// nothing pushed when nothing changed) and carries on from the feed.
jest.setTimeout(120_000);

const docker = dockerClient();
const run = randomBytes(3).toString('hex');
const net = new TestNetwork(docker, `wharf-lbrestart-${run}`);
let etcd: EtcdInstance;
let client: Etcd3;
let routes: RouteEvents;
let image = '';
let dataDir = '';
let lb: RunningLbManager | undefined;
const keys = new KeyLayout('/wharf');

beforeAll(async () => {
  etcd = await startEtcd();
  client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  routes = new RouteEvents(new EtcdEventStore({ client, keys }));
  image = await webImage(docker, `wharf-lbrestart-web:${run}`, 'r');
  await net.create();
  dataDir = mkdtempSync(join(tmpdir(), 'wharf-lb-restart-'));
  chmodSync(dataDir, 0o755);
});

afterAll(async () => {
  await lb?.stop();
  await net.destroy();
  if (image)
    await docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
  client?.close();
  await etcd?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

it('keeps serving while lb-manager is dead, and a restarted lb-manager adopts the running nginx', async () => {
  const first = await startLbManager(etcd, { WHARF_LB_DATA_DIR: dataDir });
  const ports = { WHARF_LB_HTTP_PORT: String(first.httpPort), WHARF_LB_HTTPS_PORT: String(first.httpsPort) };
  const { address } = await net.run(image, 'r1');
  await setEndpoints(client, keys, 'a1.web', [address]);
  await routes.tenant('t1', 'acme');
  await routes.app('a1', 't1', 'shop');
  await routes.component('a1.web', 'a1', 't1', { name: 'web', ports: [{ port: 8080, protocol: 'http', public: true }] });
  await within('the route', 5000, async () =>
    (await viaGateway(first.httpPort, 'web.shop.acme.localhost').catch(() => undefined))?.status === 200 ? true : undefined,
  );

  await first.process.stop('SIGKILL');
  expect(nginxAlive(dataDir, 'http')).toBe(true);
  expect((await viaGateway(first.httpPort, 'web.shop.acme.localhost')).status).toBe(200);

  lb = await startLbManager(etcd, { WHARF_LB_DATA_DIR: dataDir, ...ports });
  expect(await lb.metric('wharf_lb_nginx_starts_total', 'instance="http"')).toBe(0);
  expect(await lb.metric('wharf_lb_nginx_starts_total', 'instance="stream"')).toBe(0);
  expect(await lb.metric('wharf_lb_routing_table_pushes_total')).toBe(0);
  // And it follows changes from there.
  await routes.update('a1.web', {
    name: 'web',
    ports: [{ port: 8080, protocol: 'http', public: true }],
    routes: [{ host: 'after.example.com', pathPrefix: '/', port: 8080 }],
  });
  await within('the route added after the restart', 2000, async () =>
    (await viaGateway(lb!.httpPort, 'after.example.com').catch(() => undefined))?.status === 200 ? true : undefined,
  );
});
