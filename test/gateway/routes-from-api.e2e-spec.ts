import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { dockerClient, startEtcd, startMq, type EtcdInstance, type RunningMq } from '@wharf/testing';
import { randomBytes } from 'node:crypto';
import { client, startApi, type RunningApi } from '../../services/api-gateway/test/api-harness';
import { webImage } from '../../services/lb-manager/test/images';
import { setEndpoints, startLbManager, TestNetwork, viaGateway, within, type RunningLbManager } from '../../services/lb-manager/test/harness';

// The contract between api-gateway and lb-manager, as built: a component created and updated
// through the REST API (its events, not the test's) is routed by the gateway; the replicas'
// endpoints are written as app-manager writes them (app-manager is another branch).
jest.setTimeout(120_000);

const docker = dockerClient();
const run = randomBytes(3).toString('hex');
const net = new TestNetwork(docker, `wharf-lbe2e-${run}`);
let etcd: EtcdInstance;
let mq: RunningMq;
let api: RunningApi;
let lb: RunningLbManager;
let etcdClient: Etcd3;
let image = '';

beforeAll(async () => {
  etcd = await startEtcd();
  etcdClient = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  mq = await startMq(etcd);
  api = await startApi(etcd, mq.grpc);
  lb = await startLbManager(etcd);
  image = await webImage(docker, `wharf-lbe2e-web:${run}`, 'api');
  await net.create();
});

afterAll(async () => {
  await lb?.stop();
  await api?.stop();
  await mq?.stop();
  await net.destroy();
  if (image)
    await docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
  etcdClient?.close();
  await etcd?.destroy();
});

it('routes a component created through the API by its default host and its own route', async () => {
  const admin = client(api.url, api.adminToken);
  expect((await admin('POST', '/api/v1/tenants', { name: 'acme' })).status).toBe(201);
  expect((await admin('POST', '/api/v1/tenants/acme/apps', { name: 'shop' })).status).toBe(201);
  const created = await admin('POST', '/api/v1/tenants/acme/apps/acme.shop/components', {
    name: 'api',
    source: { image: 'busybox' },
    ports: [{ port: 8080, protocol: 'http', public: true }],
    routes: [{ host: 'api.example.com', path_prefix: '/v1', port: 8080 }],
  });
  expect(created.status).toBe(201);
  const id = created.body.id as string;

  // The route is api's: the API refuses it to another component, naming the owner.
  const taken = await admin('POST', '/api/v1/tenants/acme/apps/acme.shop/components', {
    name: 'copy',
    source: { image: 'busybox' },
    ports: [{ port: 8080, protocol: 'http', public: true }],
    routes: [{ host: 'api.example.com', path_prefix: '/v1/', port: 8080 }],
  });
  expect(taken.status).toBe(409);
  expect(taken.body.error).toMatchObject({ code: 'route_owned', field: 'routes[0]', message: expect.stringContaining('acme/shop/api (acme.shop.api)') });

  // No replica yet: the gateway says so.
  const unready = await within('the 503 page', 5000, async () => {
    const r = await viaGateway(lb.httpPort, 'api.shop.acme.localhost').catch(() => undefined);
    return r?.status === 503 ? r : undefined;
  });
  expect(unready.value.body).toMatch(/Component api of app shop has no ready replica/);

  // A ready replica, published as app-manager does.
  const { address } = await net.run(image, 'api-1');
  await setEndpoints(etcdClient, new KeyLayout('/wharf'), id, [address], [{ port: 8080, protocol: 'http' }]);
  const served = await within('the replica to answer through its route', 5000, async () => {
    const r = await viaGateway(lb.httpPort, 'api.example.com', '/v1/items').catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  });
  expect(served.value.body).toMatch(/^api host=api.example.com /);

  // The route removed through the API (If-Match: the version read).
  const current = await admin('GET', `/api/v1/tenants/acme/components/${id}`);
  const updated = await admin(
    'PUT',
    `/api/v1/tenants/acme/components/${id}`,
    { source: { image: 'busybox' }, ports: [{ port: 8080, protocol: 'http', public: true }], routes: [] },
    { 'if-match': current.headers.get('etag') ?? '' },
  );
  expect(updated.status).toBe(200);
  const gone = await within('the removed route to answer 404', 2000, async () => {
    const r = await viaGateway(lb.httpPort, 'api.example.com', '/v1/items').catch(() => undefined);
    return r?.status === 404 ? r : undefined;
  });
  console.log(`route removed through the API: 404 after ${gone.ms} ms`);
  expect((await viaGateway(lb.httpPort, 'api.shop.acme.localhost')).status).toBe(200);
});
