import { mqV1 } from '@wharf/contracts';
import { createClient } from '@wharf/grpc';
import { startEtcd, type EtcdInstance } from '@wharf/testing';
import { Etcd3 } from 'etcd3';
import { startMq, type RunningMq } from '../../mq/test/mq-harness';
import { client, startApi, type RunningApi } from '../test/api-harness';

describe('api-gateway over real HTTP, real etcd and real mq', () => {
  let etcd: EtcdInstance;
  let mq: RunningMq;
  let api: RunningApi;
  let admin: ReturnType<typeof client>;
  const tokens: Record<string, string> = {};
  const as = (who: string) => client(api.url, tokens[who]);

  beforeAll(async () => {
    etcd = await startEtcd();
    mq = await startMq(etcd.endpoint);
    api = await startApi(etcd.endpoint, mq.grpc);
    admin = client(api.url, api.adminToken);
    // Two tenants; acme has one member of each role; globex has its own owner.
    for (const t of ['acme', 'globex']) expect((await admin('POST', '/api/v1/tenants', { name: t })).status).toBe(201);
    for (const [user, tenant, role] of [['olive', 'acme', 'owner'], ['dev', 'acme', 'developer'], ['vic', 'acme', 'viewer'], ['gus', 'globex', 'owner']]) {
      expect((await admin('POST', '/api/v1/users', { name: user })).status).toBe(201);
      expect((await admin('POST', `/api/v1/tenants/${tenant}/members`, { user_id: user, role })).status).toBe(201);
      const t = await admin('POST', `/api/v1/users/${user}/tokens`, { name: 'test' });
      expect(t.status).toBe(201);
      tokens[user] = t.body.token;
    }
    expect((await as('olive')('POST', '/api/v1/tenants/acme/apps', { name: 'shop' })).status).toBe(201);
    expect((await as('gus')('POST', '/api/v1/tenants/globex/apps', { name: 'secret-app' })).status).toBe(201);
  });
  afterAll(async () => {
    await api?.stop();
    await mq?.stop();
    await etcd?.destroy();
  });

  it('printed a one-time admin token and serves the OpenAPI document', async () => {
    expect(api.adminToken).toMatch(/^wharf_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    const doc = await client(api.url)('GET', '/docs/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toContain('/api/v1/tenants/{tenant}/components/{component}');
    expect((await client(api.url)('GET', '/docs')).status).toBe(200);
  });

  it('creates, reads and updates a component with ETag / If-Match; a stale update is 409 and changes nothing', async () => {
    const dev = as('dev');
    const created = await dev('POST', '/api/v1/tenants/acme/apps/acme.shop/components', {
      name: 'web',
      source: { git: { url: 'https://git.example.com/acme/web.git', branch: 'main' } },
      ports: [{ port: 8080, protocol: 'http', public: true }],
      env: [{ name: 'MODE', value: 'prod' }, { name: 'DB_PASSWORD', value: 'hunter2', secret: true }],
      replicas: 2,
      probe: { kind: 'http', path: '/healthz', port: 8080 },
      volumes: [{ name: 'data', mount_path: '/data', size_mib: 100 }],
      routes: [{ host: 'shop.example.com', path_prefix: '/', port: 8080 }],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'acme.shop.web', name: 'web', replicas: 2, stateful: true, active_operation: null });
    expect(created.body.env).toEqual([{ name: 'MODE', secret: false, value: 'prod' }, { name: 'DB_PASSWORD', secret: true, value: null }]);
    const got = await dev('GET', '/api/v1/tenants/acme/components/acme.shop.web');
    const etag = got.headers.get('etag')!;
    expect(etag).toBe(`"${created.body.version}"`);

    const spec = { source: { image: 'nginx:1.27' }, replicas: 3 };
    const updated = await dev('PUT', '/api/v1/tenants/acme/components/acme.shop.web', spec, { 'if-match': etag });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ replicas: 3, source: { image: 'nginx:1.27' } });
    const stale = await dev('PUT', '/api/v1/tenants/acme/components/acme.shop.web', { ...spec, replicas: 9 }, { 'if-match': etag });
    expect(stale.status).toBe(409);
    expect((await dev('GET', '/api/v1/tenants/acme/components/acme.shop.web')).body.replicas).toBe(3);
  });

  it('keeps secrets encrypted at rest', async () => {
    await as('dev')('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: 'db', source: { image: 'postgres:16' }, env: [{ name: 'PGPASSWORD', value: 'plain-text-canary', secret: true }] });
    const raw = new Etcd3({ hosts: etcd.endpoint });
    const all = await raw.getAll().prefix('/wharf/').buffers();
    raw.close();
    const dump = Buffer.concat(Object.values(all)).toString('latin1');
    expect(dump).toContain('PGPASSWORD');
    expect(dump).not.toContain('plain-text-canary');
  });

  it('lets exactly one of two concurrent updates with the same If-Match win', async () => {
    const dev = as('dev');
    await dev('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: 'race', source: { image: 'busybox' } });
    const etag = (await dev('GET', '/api/v1/tenants/acme/components/acme.shop.race')).headers.get('etag')!;
    const results = await Promise.all([1, 2].map((n) => dev('PUT', '/api/v1/tenants/acme/components/acme.shop.race', { source: { image: 'busybox' }, replicas: n }, { 'if-match': etag })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = results.find((r) => r.status === 200)!.body.replicas;
    expect((await dev('GET', '/api/v1/tenants/acme/components/acme.shop.race')).body.replicas).toBe(winner);
  });

  it('answers an async action with 202 {event_id}, shows it pending, enqueues it, and refuses a second one with 409', async () => {
    const dev = as('dev');
    await dev('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: 'worker', source: { image: 'busybox' } });
    const res = await dev('POST', '/api/v1/tenants/acme/components/acme.shop.worker/operations', { kind: 'deploy' });
    expect(res.status).toBe(202);
    const eventId = res.body.event_id;
    expect(eventId).toMatch(/^evt-/);
    const op = await dev('GET', `/api/v1/tenants/acme/operations/${eventId}`);
    expect(op.body).toMatchObject({ event_id: eventId, kind: 'deploy', status: 'pending', target: 'component/acme.shop.worker' });
    const second = await dev('POST', '/api/v1/tenants/acme/components/acme.shop.worker/operations', { kind: 'restart' });
    expect(second.status).toBe(409);
    expect(second.body.error.message).toContain(eventId);
    const queued = await dev('POST', '/api/v1/tenants/acme/components/acme.shop.worker/operations', { kind: 'scale', replicas: 2, queue: true });
    expect(queued.status).toBe(202);

    const mqClient = createClient(mqV1.MqService, mq.grpc);
    const { deliveries } = await mqClient.dequeue({ topic: 'deploy', waitMs: 2000 });
    mqClient.close();
    expect(deliveries.map((d) => [d.task!.taskId, d.task!.eventId])).toEqual([[eventId, eventId]]);
    expect(JSON.parse(Buffer.from(deliveries[0].task!.payload).toString())).toMatchObject({ event_id: eventId, kind: 'deploy', tenant_id: 'acme' });
    const list = await dev('GET', '/api/v1/tenants/acme/operations?status=pending');
    expect(list.body.items.map((o: { event_id: string }) => o.event_id)).toEqual(expect.arrayContaining([eventId, queued.body.event_id]));
  });

  it('pages lists with a cursor', async () => {
    const dev = as('dev');
    for (const n of ['p1', 'p2', 'p3']) await dev('POST', '/api/v1/tenants/acme/apps', { name: n });
    const first = await dev('GET', '/api/v1/tenants/acme/apps?limit=2');
    expect(first.body.items).toHaveLength(2);
    const second = await dev('GET', `/api/v1/tenants/acme/apps?limit=2&cursor=${first.body.next_cursor}`);
    const names = [...first.body.items, ...second.body.items].map((a: { name: string }) => a.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['p1', 'p2', 'p3', 'shop']));
    expect((await dev('GET', '/api/v1/tenants/acme/apps?name=p2')).body.items.map((a: { name: string }) => a.name)).toEqual(['p2']);
    expect((await dev('GET', '/api/v1/tenants/acme/apps?limit=0')).status).toBe(400);
  });

  it('names the field and the reason for bad input, and never answers 500', async () => {
    const dev = as('dev');
    const post = (body: unknown) => dev('POST', '/api/v1/tenants/acme/apps/acme.shop/components', body);
    const cases: [unknown, string][] = [
      [{ name: 'Bad_Name', source: { image: 'nginx' } }, 'name'],
      [{ name: 'x', source: { image: 'nginx; rm -rf /' } }, 'source'],
      [{ name: 'x', source: { git: { url: 'file:///etc/passwd' } } }, 'source'],
      [{ name: 'x', source: { git: { url: '--upload-pack=touch /tmp/x' } } }, 'source'],
      [{ name: 'x', source: { image: 'nginx' }, ports: [{ port: 70000 }] }, 'ports.0.port'],
      [{ name: 'x', source: { image: 'nginx' }, env: [{ name: '1BAD', value: 'v' }] }, 'env.0.name'],
      [{ name: 'x', source: { image: 'nginx' }, surprise: 1 }, 'body'],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.error.field.startsWith(field)).toBe(true);
      expect(res.body.error.message).toMatch(/: .+/);
    }
    expect((await dev('POST', '/api/v1/tenants/acme/apps', '{"name": ')).status).toBe(400);
    expect((await dev('POST', '/api/v1/tenants/acme/apps', JSON.stringify({ name: 'big', description: 'x'.repeat(2 * 1024 * 1024) }))).status).toBe(413);
    expect((await dev('GET', '/api/v1/nope')).status).toBe(404);
    expect((await dev('PUT', '/api/v1/tenants/acme/components/acme.shop.web', { source: { image: 'nginx' } }, { 'if-match': 'garbage' })).status).toBe(400);
  });
});
