import { createEtcdClient, type Etcd3 } from '@wharf/etcd';
import { freePort, startApiGateway, startEtcd, waitFor, type EtcdInstance, type RunningApiGateway } from '@wharf/testing';
import { client } from '../test/api-harness';

/** A metric's value from /metrics text (undefined when absent). */
const metric = (text: string, name: string) => {
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
};

describe('api-gateway while etcd is down (a real etcd killed and restarted)', () => {
  let etcd: EtcdInstance;
  let api: RunningApiGateway;
  let admin: ReturnType<typeof client>;
  const metrics = async () => (await client(api.url)('GET', '/metrics')).body as string;

  beforeAll(async () => {
    etcd = await startEtcd();
    // No mq: nothing here needs a task delivered.
    api = await startApiGateway(etcd, `127.0.0.1:${await freePort()}`);
    admin = client(api.url, api.adminToken);
    expect((await admin('POST', '/api/v1/tenants', { name: 'acme' })).status).toBe(201);
    expect((await admin('POST', '/api/v1/tenants/acme/apps', { name: 'shop' })).status).toBe(201);
    expect((await admin('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: 'api', source: { image: 'nginx' } })).status).toBe(201);
  });
  afterAll(async () => {
    await api?.stop();
    await etcd?.destroy();
  });

  it('answers writes 503 unavailable naming etcd with Retry-After, refuses them at once while the outage is known, keeps reading, and writes again after', async () => {
    await etcd.kill();

    const first = await admin('POST', '/api/v1/tenants/acme/apps', { name: 'during0' });
    expect(first.status).toBe(503);
    expect(first.body.error).toEqual({ code: 'unavailable', message: expect.stringMatching(/^etcd is unavailable/) });
    expect(Number(first.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    // Every kind of write, once the outage is known: refused without waiting for etcd.
    await waitFor('the outage to be known', async () => (metric(await metrics(), 'wharf_api_etcd_up') === 0 ? true : undefined));
    const writes: [string, string, unknown][] = [
      ['POST', '/api/v1/tenants/acme/apps', { name: 'during1' }],
      ['PUT', '/api/v1/tenants/acme/components/acme.shop.api', { source: { image: 'nginx:2' } }],
      ['POST', '/api/v1/tenants/acme/components/acme.shop.api/operations', { kind: 'restart' }],
      ['POST', '/api/v1/users', { name: 'during2' }],
    ];
    for (const [method, path, body] of writes) {
      const res = await admin(method, path, body);
      expect({ path, status: res.status, code: res.body.error.code, retryAfter: res.headers.has('retry-after') }).toEqual({
        path,
        status: 503,
        code: 'unavailable',
        retryAfter: true,
      });
    }
    const notReady = await client(api.url)('GET', '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body.checks.etcd).toMatchObject({ ok: false, detail: expect.stringMatching(/^unreachable for/) });
    const during = await metrics();
    expect(metric(during, 'wharf_api_etcd_refused_total')).toBeGreaterThanOrEqual(writes.length);
    expect(metric(during, 'wharf_api_catalog_live')).toBe(0);

    // Reads come from the catalog in memory.
    const read = await admin('GET', '/api/v1/tenants/acme/components/acme.shop.api');
    expect(read.status).toBe(200);
    expect(read.body.source).toEqual({ image: 'nginx' });
    expect((await admin('GET', '/api/v1/tenants/acme/apps')).status).toBe(200);

    await etcd.start();
    const after = await waitFor('a write to be taken again', async () => {
      const res = await admin('POST', '/api/v1/tenants/acme/apps', { name: 'after' });
      return res.status === 201 ? res : undefined;
    });
    expect(after.body).toMatchObject({ id: 'acme.after' });
    await waitFor('etcd up and the catalog live again', async () => {
      const text = await metrics();
      return metric(text, 'wharf_api_etcd_up') === 1 && metric(text, 'wharf_api_catalog_live') === 1 ? true : undefined;
    });

    await waitFor('ready again', async () => ((await client(api.url)('GET', '/readyz')).status === 200 ? true : undefined));

    // Nothing half-written: none of the refused writes reached etcd or the catalog.
    const apps = await admin('GET', '/api/v1/tenants/acme/apps');
    expect(apps.body.items.map((a: { name: string }) => a.name).sort()).toEqual(['after', 'shop']);
    expect((await admin('GET', '/api/v1/tenants/acme/components/acme.shop.api')).body).toMatchObject({ source: { image: 'nginx' }, active_operation: null });
    expect((await admin('GET', '/api/v1/tenants/acme/operations')).body.items).toEqual([]);
    const raw: Etcd3 = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    try {
      const keys = await raw.getAll().prefix('/wharf/es/').keys();
      expect(keys.filter((k) => k.includes('during'))).toEqual([]);
    } finally {
      raw.close();
    }
  });
});
