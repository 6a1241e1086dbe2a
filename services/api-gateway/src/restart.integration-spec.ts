import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { issueToken } from '@wharf/identity';
import { freePort, spawnProcess, startApiGateway, startEtcd, type EtcdInstance } from '@wharf/testing';
import { join } from 'node:path';
import { client } from '../test/api-harness';

describe('api-gateway start-up, snapshots and restarts (real etcd, real processes)', () => {
  let etcd: EtcdInstance;
  let raw: Etcd3;
  let mqAddr: string; // nothing listens: these tests start no operation
  const keys = new KeyLayout('/wharf');

  beforeAll(async () => {
    etcd = await startEtcd();
    raw = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    mqAddr = `127.0.0.1:${await freePort()}`;
  });
  afterAll(async () => {
    raw?.close();
    await etcd?.destroy();
  });

  it('refuses to start without WHARF_SECRET_KEY outside dev mode, naming the variable', async () => {
    const proc = spawnProcess(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], {
      env: {
        ...process.env,
        ...etcd.pki.env('api-gateway'),
        WHARF_ETCD_ENDPOINTS: etcd.endpoint,
        WHARF_HTTP_PORT: '0',
        WHARF_SECRET_KEY: '',
        WHARF_DEV_MODE: '0',
      },
    });
    expect(await proc.exited).toBe(78);
    expect(proc.output()).toContain('WHARF_SECRET_KEY');
    const short = spawnProcess(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], {
      env: { ...process.env, ...etcd.pki.env('api-gateway'), WHARF_ETCD_ENDPOINTS: etcd.endpoint, WHARF_HTTP_PORT: '0', WHARF_SECRET_KEY: 'abcd' },
    });
    expect(await short.exited).toBe(78);
    expect(short.output()).toContain('WHARF_SECRET_KEY');
  });

  it('takes the admin token from config on first start and prints no token', async () => {
    const prefix = '/cfg';
    const token = issueToken().token;
    const api = await startApiGateway(etcd, mqAddr, { WHARF_ETCD_PREFIX: prefix, WHARF_ADMIN_TOKEN: token });
    try {
      expect(api.adminToken).toBeUndefined();
      expect(api.process.output()).not.toContain(token);
      expect((await client(api.url, token)('GET', '/api/v1/me')).body).toMatchObject({ id: 'admin', admin: true });
    } finally {
      await api.stop();
    }
  });

  it('restarts from its snapshot plus the feed after it, after a graceful stop and after SIGKILL', async () => {
    let api = await startApiGateway(etcd, mqAddr, { WHARF_LOG_LEVEL: 'info' });
    const token = api.adminToken!;
    expect(token).toBeDefined();
    const admin = () => client(api.url, token);
    expect((await admin()('POST', '/api/v1/tenants', { name: 'acme' })).status).toBe(201);
    expect((await admin()('POST', '/api/v1/tenants/acme/apps', { name: 'shop' })).status).toBe(201);
    for (const n of ['a', 'b'])
      expect((await admin()('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: n, source: { image: 'nginx' } })).status).toBe(201);
    await api.stop(); // graceful: saves the catalog
    const meta = JSON.parse((await raw.get(keys.es.projectionMeta('api-gateway-catalog')).string())!);
    expect(meta).toMatchObject({ chunks: 1 });

    // Written while no gateway runs: only the feed after the snapshot can tell the next one.
    const store = new EtcdEventStore({ client: raw, keys });
    const spec = create(eventsV1.ComponentSpecSchema, { name: 'c', source: { case: 'image', value: { image: 'nginx' } }, replicas: 1 });
    await store.append(
      'component/acme.shop.c',
      [{ message: create(eventsV1.ComponentCreatedSchema, { componentId: 'acme.shop.c', appId: 'acme.shop', tenantId: 'acme', spec }) }],
      0,
    );

    api = await startApiGateway(etcd, mqAddr, { WHARF_LOG_LEVEL: 'info' });
    expect(api.adminToken).toBeUndefined(); // the admin exists: no second bootstrap
    expect(api.process.output()).toContain(`"fromSnapshot":"${meta.position}"`);
    const list = await admin()('GET', '/api/v1/tenants/acme/apps/acme.shop/components');
    expect(list.body.items.map((c: { name: string }) => c.name)).toEqual(['a', 'b', 'c']);
    expect((await admin()('PUT', '/api/v1/tenants/acme/components/acme.shop.a', { source: { image: 'nginx:2' } }, { 'if-match': '"1"' })).status).toBe(200);
    await api.stop('SIGKILL'); // no final save: the restart replays the update from the feed

    api = await startApiGateway(etcd, mqAddr, { WHARF_LOG_LEVEL: 'info' });
    try {
      const a = await admin()('GET', '/api/v1/tenants/acme/components/acme.shop.a');
      expect(a.body.source).toEqual({ image: 'nginx:2' });
      expect(a.headers.get('etag')).toBe('"2"');
    } finally {
      await api.stop();
    }
  });
});
