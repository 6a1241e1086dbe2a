import { create, toJsonString } from '@bufbuild/protobuf';
import { appmanagerV1, eventsV1, mqV1, nodeV1 } from '@wharf/contracts';
import { createEtcdClient, KeyLayout } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { createClient } from '@wharf/grpc';
import { NodeDirectory } from '@wharf/nodes';
import { decodeTask } from '@wharf/tasks';
import { rawHttp, startEtcd, startMq, waitFor, type EtcdInstance, type RunningMq } from '@wharf/testing';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { client, startApi, type RunningApi } from '../test/api-harness';

describe('api-gateway over real HTTP, real etcd and real mq', () => {
  let etcd: EtcdInstance;
  let mq: RunningMq;
  let api: RunningApi;
  let admin: ReturnType<typeof client>;
  const tokens: Record<string, string> = {};
  const as = (who: string) => client(api.url, tokens[who]);
  /** node-manager's part, as it records it: the node's first event and, if reporting, its heartbeat key. */
  const registerNode = async (id: string, reporting = false) => {
    const raw = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    await new NodeDirectory(raw, new KeyLayout(), new EtcdEventStore({ client: raw })).register(
      { nodeId: id, address: '127.0.0.1', roles: ['compute'], labels: {} },
      'service:node-manager',
    );
    if (reporting)
      await raw
        .put(new KeyLayout().nodes.node(id))
        .value(toJsonString(nodeV1.NodeHeartbeatSchema, create(nodeV1.NodeHeartbeatSchema, { nodeId: id, timeMs: BigInt(Date.now()) })));
    raw.close();
    return id;
  };

  beforeAll(async () => {
    etcd = await startEtcd();
    mq = await startMq(etcd);
    // Short HTTP limits, so a slow client's 408 comes quickly (ordinary requests take milliseconds).
    api = await startApi(etcd, mq.grpc, { WHARF_HTTP_HEADERS_TIMEOUT_MS: '1000', WHARF_HTTP_REQUEST_TIMEOUT_MS: '1500' });
    admin = client(api.url, api.adminToken);
    // Two tenants; acme has one member of each role; globex has its own owner.
    for (const t of ['acme', 'globex']) expect((await admin('POST', '/api/v1/tenants', { name: t })).status).toBe(201);
    for (const [user, tenant, role] of [
      ['olive', 'acme', 'owner'],
      ['dev', 'acme', 'developer'],
      ['vic', 'acme', 'viewer'],
      ['gus', 'globex', 'owner'],
    ]) {
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
    expect((await client(api.url)('GET', '/health')).body).toEqual({ status: 'ok' });
    const ready = await client(api.url)('GET', '/readyz');
    expect({ status: ready.status, etcd: ready.body.checks.etcd.ok, catalog: ready.body.checks.catalog.ok }).toEqual({
      status: 200,
      etcd: true,
      catalog: true,
    });
  });

  it("documents each operation kind's arguments (a oneOf per kind) and each route's query parameters", async () => {
    const doc = (await client(api.url)('GET', '/docs/openapi.json')).body;
    const body = doc.paths['/api/v1/tenants/{tenant}/components/{component}/operations'].post.requestBody.content['application/json'].schema;
    expect(body.discriminator).toEqual({ propertyName: 'kind' });
    const kinds = Object.fromEntries(
      body.oneOf.map((k: { properties: Record<string, { enum?: string[] }> }) => [k.properties.kind.enum![0], Object.keys(k.properties)]),
    );
    expect(kinds).toMatchObject({
      build: ['kind', 'deploy_after', 'queue'],
      scale: ['kind', 'replicas', 'queue'],
      rollback: ['kind', 'version_id', 'queue'],
      pause: ['kind'],
    });
    expect(Object.keys(kinds).sort()).toEqual(['build', 'delete', 'deploy', 'pause', 'restart', 'resume', 'rollback', 'scale', 'start', 'stop', 'upgrade']);
    const apps = doc.paths['/api/v1/tenants/{tenant}/apps'].get.parameters.filter((p: { in: string }) => p.in === 'query');
    expect(apps.map((p: { name: string }) => p.name)).toEqual(['limit', 'cursor', 'name']);
  });

  it('refuses a query parameter a route does not take, on every GET route of the REST API in the OpenAPI document, naming it', async () => {
    const doc = (await client(api.url)('GET', '/docs/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    // The query is checked before the path's objects are looked up: these need not exist.
    const ids: Record<string, string> = {
      tenant: 'acme',
      app: 'acme.shop',
      component: 'acme.shop.web',
      version: 'v1',
      event: 'evt-00000000-0000-4000-8000-000000000000',
    };
    const gets = Object.entries(doc.paths)
      .filter(([path, ops]) => path.startsWith('/api/v1/') && 'get' in ops) // not the probes (/livez, /readyz: service-kit's)
      .map(([path]) => path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]));
    expect(gets.length).toBeGreaterThanOrEqual(15);
    for (const path of gets) {
      const res = await admin('GET', `${path}?bogus=1`);
      expect({ path, status: res.status, error: res.body.error }).toEqual({
        path,
        status: 400,
        error: { code: 'invalid', field: 'bogus', message: expect.stringMatching(/^bogus: unknown query parameter; this route takes /) },
      });
    }
    // Another route's parameter is unknown here, and a known one with a bad value is named too.
    expect((await admin('GET', '/api/v1/tenants/acme/quota?limit=abc')).body.error).toMatchObject({ code: 'invalid', field: 'limit' });
    expect((await admin('GET', '/api/v1/tenants/acme/apps?role=viewer')).body.error).toMatchObject({ code: 'invalid', field: 'role' });
    expect((await admin('GET', '/api/v1/tenants/acme/apps?limit=abc')).body.error).toMatchObject({ code: 'invalid', field: 'limit' });
    expect((await admin('GET', '/api/v1/tenants/acme/apps?limit=2&name=shop')).status).toBe(200);
    // Writes follow the same rule; ?queue=true is for what can wait.
    const ops = '/api/v1/tenants/acme/components/acme.shop.web/operations';
    expect((await admin('POST', `${ops}?queue=true`, { kind: 'pause' })).body.error).toMatchObject({ code: 'invalid', field: 'queue' });
    expect((await admin('POST', `${ops}?later=1`, { kind: 'restart' })).body.error).toMatchObject({ code: 'invalid', field: 'later' });
    expect((await admin('POST', '/api/v1/tenants?dry_run=1', { name: 'never' })).body.error).toMatchObject({ code: 'invalid', field: 'dry_run' });
    expect((await admin('GET', '/api/v1/tenants/never')).status).toBe(404);
  });

  it('bounds slow and oversized requests: 408 for a body shorter than its Content-Length, 431 for a 70 KB header, no reset', async () => {
    const { port } = new URL(api.url);
    const raw = (bytes: string) => rawHttp(Number(port), bytes);
    const short = await raw(
      `POST /api/v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${api.adminToken}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"name":`,
    );
    expect(short.text).toMatch(/^HTTP\/1.1 408 /);
    expect(short.text).toContain('"code":"request_timeout"');
    const big = await raw(`GET /api/v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(70_000)}\r\n\r\n`);
    expect(big.text).toMatch(/^HTTP\/1.1 431 /);
    expect(big.reset).toBe(false);
    // Nothing of the cut-off request was accepted.
    expect((await admin('GET', '/api/v1/tenants')).body.items.map((t: { id: string }) => t.id)).toEqual(['acme', 'globex']);
  });

  it('answers bodies it cannot take with 4xx naming why, and takes an empty JSON body as none', async () => {
    const post = async (path: string, body: string | Buffer, type: string) => {
      const res = await fetch(`${api.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${api.adminToken}`, 'content-type': type }, body });
      return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string; field?: string } } };
    };
    expect(await post('/api/v1/tenants', '{"name":', 'application/json')).toEqual({
      status: 400,
      body: { error: { code: 'invalid', message: 'body: malformed JSON', field: 'body' } },
    });
    expect(await post('/api/v1/tenants', '{"__proto__":{"admin":true},"name":"proto"}', 'application/json')).toMatchObject({ status: 400 });
    const plain = await post('/api/v1/tenants', 'name=x', 'text/plain');
    expect(plain.status).toBe(415);
    expect(plain.body.error).toMatchObject({ code: 'unsupported_media_type', field: 'body' });
    expect(plain.body.error!.message).toContain('application/json');
    const huge = await post('/api/v1/tenants', JSON.stringify({ name: 'x', pad: 'a'.repeat(1024 * 1024) }), 'application/json');
    expect(huge).toMatchObject({ status: 413, body: { error: { code: 'too_large', field: 'body' } } });
    // No body where a body is required: the schema's own error, not a parser's.
    const empty = await post('/api/v1/tenants', '', 'application/json');
    expect(empty.status).toBe(400);
    expect(empty.body.error!.code).toBe('invalid');
    const unknown = await fetch(`${api.url}/api/v1/no-such-thing`, { headers: { authorization: `Bearer ${api.adminToken}` } });
    expect({ status: unknown.status, body: await unknown.json() }).toEqual({ status: 404, body: { error: { code: 'not_found', message: 'no such route' } } });
    // Nothing of the refused requests was accepted.
    expect((await admin('GET', '/api/v1/tenants')).body.items.map((t: { id: string }) => t.id)).toEqual(['acme', 'globex']);
  });

  it('exposes request and catalog metrics by route template', async () => {
    await admin('GET', '/api/v1/tenants/acme');
    const text = (await client(api.url)('GET', '/metrics')).body as string;
    expect(text).toMatch(/wharf_api_http_requests_total\{method="GET",route="\/api\/v1\/tenants\/:tenant",status="200"\} \d+/);
    expect(text).toMatch(/wharf_api_catalog_events \d+/);
    expect(text).not.toContain('route="/api/v1/tenants/acme"');
  });

  it('creates, reads and updates a component with ETag / If-Match; a stale update is 409 and changes nothing', async () => {
    const dev = as('dev');
    const created = await dev('POST', '/api/v1/tenants/acme/apps/acme.shop/components', {
      name: 'web',
      source: { git: { url: 'https://git.example.com/acme/web.git', branch: 'main' } },
      ports: [{ port: 8080, protocol: 'http', public: true }],
      env: [
        { name: 'MODE', value: 'prod' },
        { name: 'DB_PASSWORD', value: 'hunter2', secret: true },
      ],
      replicas: 2,
      probe: { kind: 'http', path: '/healthz', port: 8080 },
      volumes: [{ name: 'data', mount_path: '/data', size_mib: 100 }],
      routes: [{ host: 'shop.example.com', path_prefix: '/', port: 8080 }],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'acme.shop.web', name: 'web', replicas: 2, stateful: true, active_operation: null });
    expect(created.body.env).toEqual([
      { name: 'MODE', secret: false, value: 'prod' },
      { name: 'DB_PASSWORD', secret: true, value: null },
    ]);
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

  it("shows what really runs from app-manager's status key, and nothing another tenant's status key says", async () => {
    const dev = as('dev');
    await dev('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: 'status', source: { image: 'busybox' } });
    const path = '/api/v1/tenants/acme/components/acme.shop.status/status';
    expect(await dev('GET', path)).toMatchObject({ status: 200, body: { component_id: 'acme.shop.status', state: 'unknown', replicas: [] } });
    const raw = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    const key = new KeyLayout('/wharf').appmgr.status('acme.shop.status');
    // What app-manager writes (proto3 JSON of wharf.appmanager.v1.ComponentStatus).
    const status = create(appmanagerV1.ComponentStatusSchema, {
      componentId: 'acme.shop.status',
      tenantId: 'acme',
      state: 'abnormal',
      reason: '1 of 2 replicas ready: wharf-acme-shop-status-2 exited with code 3',
      versionId: 'v1',
      desiredReplicas: 2,
      readyReplicas: 1,
      changedAtMs: 1234n,
      runtime: 'docker',
      replicas: [
        { name: 'wharf-acme-shop-status-1', slot: 1, versionId: 'v1', state: 'ready', node: 'n1', address: '172.18.0.2', startedAtMs: 1000n },
        { name: 'wharf-acme-shop-status-2', slot: 2, versionId: 'v1', state: 'crashed', reason: 'exited with code 3', restarts: 2 },
      ],
    });
    await raw.put(key).value(toJsonString(appmanagerV1.ComponentStatusSchema, status));
    const got = await dev('GET', path);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      state: 'abnormal',
      reason: expect.stringMatching(/1 of 2 replicas ready/),
      version_id: 'v1',
      desired_replicas: 2,
      ready_replicas: 1,
      changed_at_ms: 1234,
      runtime: 'docker',
      replicas: [
        { name: 'wharf-acme-shop-status-1', state: 'ready', address: '172.18.0.2', started_at_ms: 1000 },
        { name: 'wharf-acme-shop-status-2', state: 'crashed', reason: 'exited with code 3', restarts: 2, started_at_ms: null },
      ],
    });
    // A status key naming another tenant is not this component's: shown as unknown.
    await raw.put(key).value(toJsonString(appmanagerV1.ComponentStatusSchema, { ...status, tenantId: 'globex' }));
    expect((await dev('GET', path)).body).toMatchObject({ state: 'unknown', replicas: [] });
    raw.close();
    expect((await as('gus')('GET', path)).status).toBe(404);
    expect((await as('gus')('GET', '/api/v1/tenants/globex/components/acme.shop.status/status')).status).toBe(404);
  });

  it('keeps secrets encrypted at rest', async () => {
    await as('dev')('POST', '/api/v1/tenants/acme/apps/acme.shop/components', {
      name: 'db',
      source: { image: 'postgres:16' },
      env: [{ name: 'PGPASSWORD', value: 'plain-text-canary', secret: true }],
    });
    const raw = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    const all = await raw.getAll().prefix('/wharf/').buffers();
    raw.close();
    const dump = Buffer.concat(Object.values(all)).toString('latin1');
    expect(dump).toContain('PGPASSWORD');
    expect(dump).not.toContain('plain-text-canary');
  });

  it("PATCHes a component's routes keeping a TLS route's stored key (still sealed at rest), guarded by If-Match, documented", async () => {
    const fixture = (name: string) => readFileSync(join(__dirname, 'domain', '__fixtures__', name), 'utf8');
    const key = fixture('shop.key');
    const dev = as('dev');
    const made = await dev('POST', '/api/v1/tenants/acme/apps/acme.shop/components', {
      name: 'tls',
      source: { image: 'busybox' },
      ports: [{ port: 8080, protocol: 'http', public: true }],
      routes: [{ host: 'shop.example.com', port: 8080, tls: { certificate_pem: fixture('shop.crt'), private_key_pem: key } }],
    });
    expect(made.status).toBe(201);
    const path = '/api/v1/tenants/acme/components/acme.shop.tls';
    const chain = fixture('shop-chain.crt');
    const route = { host: 'shop.example.com', port: 8080, https_redirect: true, tls: { certificate_pem: chain } };
    expect((await dev('PATCH', path, { routes: [route] }, { 'if-match': '"99"' })).body.error).toMatchObject({ code: 'version_mismatch' });
    const patched = await dev('PATCH', path, { routes: [route] }, { 'if-match': made.headers.get('etag')! });
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe(`"${made.body.version + 1}"`);
    expect(patched.body.routes).toEqual([{ ...route, path_prefix: '/', tls: { certificate_pem: chain } }]);
    const mismatch = await dev('PATCH', path, { routes: [{ ...route, tls: { certificate_pem: fixture('wild.crt') } }] });
    expect({ status: mismatch.status, field: mismatch.body.error.field }).toEqual({ status: 400, field: 'routes[0].tls.certificate_pem' });
    expect((await as('vic')('PATCH', path, { routes: [] })).status).toBe(403);
    expect((await dev('PATCH', path, {})).body.error).toMatchObject({ code: 'invalid', field: 'body' });
    const raw = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    const all = await raw.getAll().prefix('/wharf/').buffers();
    raw.close();
    const keyBody = key.split('\n')[1];
    expect(Buffer.concat(Object.values(all)).toString('latin1')).not.toContain(keyBody);
    const doc = (await client(api.url)('GET', '/docs/openapi.json')).body;
    expect(Object.keys(doc.paths['/api/v1/tenants/{tenant}/components/{component}'])).toContain('patch');
  });

  it('lets exactly one of two concurrent updates with the same If-Match win', async () => {
    const dev = as('dev');
    await dev('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: 'race', source: { image: 'busybox' } });
    const etag = (await dev('GET', '/api/v1/tenants/acme/components/acme.shop.race')).headers.get('etag')!;
    const results = await Promise.all(
      [1, 2].map((n) => dev('PUT', '/api/v1/tenants/acme/components/acme.shop.race', { source: { image: 'busybox' }, replicas: n }, { 'if-match': etag })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = results.find((r) => r.status === 200)!.body.replicas;
    expect((await dev('GET', '/api/v1/tenants/acme/components/acme.shop.race')).body.replicas).toBe(winner);
  });

  it('gives a route to exactly one of many creates racing over two api-gateway instances; a dropped route can be taken', async () => {
    const second = await startApi(etcd, mq.grpc);
    try {
      const gateways = [api.url, second.url].map((url) => client(url, tokens.dev));
      const web = { source: { image: 'busybox' }, ports: [{ port: 8080, protocol: 'http', public: true }] };
      const routed = { ...web, routes: [{ host: 'race.example.com', path_prefix: '/', port: 8080 }] };
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => gateways[i % 2]('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: `racer${i}`, ...routed })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
      for (const r of results.filter((r) => r.status === 409)) expect(r.body.error).toMatchObject({ code: 'route_owned', field: 'routes[0]' });
      const winner = results.find((r) => r.status === 201)!.body.id as string;
      // Both instances agree on who holds it: only the winner exists.
      for (const gw of gateways) {
        const names = (await gw('GET', '/api/v1/tenants/acme/apps/acme.shop/components?limit=100')).body.items.map((c: { name: string }) => c.name);
        expect(names.filter((n: string) => n.startsWith('racer'))).toEqual([winner.split('.').pop()]);
      }
      // The winner drops the route; another component then takes it through the other instance.
      expect((await gateways[0]('PUT', `/api/v1/tenants/acme/components/${winner}`, web)).status).toBe(200);
      await waitFor('the other instance to fold the update', async () =>
        (await gateways[1]('GET', `/api/v1/tenants/acme/components/${winner}`)).body.routes?.length === 0 ? true : undefined,
      );
      expect((await gateways[1]('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: 'taker', ...routed })).status).toBe(201);
      const back = await gateways[0]('PUT', `/api/v1/tenants/acme/components/${winner}`, routed);
      expect({ status: back.status, code: back.body.error?.code }).toEqual({ status: 409, code: 'route_owned' });
    } finally {
      await second.stop();
    }
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

    const mqClient = createClient(mqV1.MqService, mq.grpc, { security: etcd.pki.security('builder') });
    const { deliveries } = await mqClient.dequeue({ topic: 'deploy', waitMs: 2000 });
    mqClient.close();
    expect(deliveries.map((d) => [d.task!.taskId, d.task!.eventId])).toEqual([[eventId, eventId]]);
    expect(decodeTask(deliveries[0].task!.payload, 'deploy').kind).toMatchObject({
      case: 'deploy',
      value: { eventId, tenantId: 'acme', componentId: 'acme.shop.worker' },
    });
    const list = await dev('GET', '/api/v1/tenants/acme/operations?status=pending');
    expect(list.body.items.map((o: { event_id: string }) => o.event_id)).toEqual(expect.arrayContaining([eventId, queued.body.event_id]));
  });

  it('folds the final status event-log appends: the queued operation then reaches mq, and a new action is accepted', async () => {
    const dev = as('dev');
    await dev('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: 'lifecycle', source: { image: 'busybox' } });
    const ops = '/api/v1/tenants/acme/components/acme.shop.lifecycle/operations';
    const build = await dev('POST', ops, { kind: 'build' });
    expect(build.body).toMatchObject({ queued: false });
    const start = await dev('POST', `${ops}?queue=true`, { kind: 'start' });
    expect(start.body).toMatchObject({ queued: true });
    const mqClient = createClient(mqV1.MqService, mq.grpc, { security: etcd.pki.security('builder') });
    const raw = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    try {
      // Not before the build has its final status.
      expect((await mqClient.dequeue({ topic: 'start', waitMs: 300 })).deliveries).toEqual([]);
      // event-log's part, as it will do it: OperationStarted, then OperationFinished once, on the target's stream.
      const store = new EtcdEventStore({ client: raw });
      const finish = (eventId: string, status: eventsV1.OperationStatus) =>
        store.append(
          'component/acme.shop.lifecycle',
          [
            { message: create(eventsV1.OperationStartedSchema, { eventId }), eventId, actor: 'service:event-log' },
            {
              message: create(eventsV1.OperationFinishedSchema, {
                eventId,
                status,
                message: 'done',
                failedStep: status === eventsV1.OperationStatus.FAILURE ? 'pull' : '',
              }),
              eventId,
              actor: 'service:event-log',
            },
          ],
          'any',
        );
      await finish(build.body.event_id, eventsV1.OperationStatus.FAILURE);
      const done = await waitFor('the build to show its final status', async () => {
        const op = await dev('GET', `/api/v1/tenants/acme/operations/${build.body.event_id}`);
        return op.body.status === 'failure' ? op.body : undefined;
      });
      expect(done).toMatchObject({ status: 'failure', failed_step: 'pull', message: 'done' });
      const { deliveries } = await mqClient.dequeue({ topic: 'start', waitMs: 5000 });
      expect(deliveries.map((d) => d.task!.taskId)).toEqual([start.body.event_id]);
      expect((await dev('GET', '/api/v1/tenants/acme/components/acme.shop.lifecycle')).body.active_operation).toBe(start.body.event_id);
      expect((await dev('POST', ops, { kind: 'stop' })).status).toBe(409);

      await finish(start.body.event_id, eventsV1.OperationStatus.SUCCESS);
      await waitFor('no active operation', async () =>
        (await dev('GET', '/api/v1/tenants/acme/components/acme.shop.lifecycle')).body.active_operation === null ? true : undefined,
      );
      expect((await dev('POST', ops, { kind: 'stop' })).status).toBe(202);
      expect((await dev('GET', '/api/v1/tenants/acme/operations?kind=start&status=success')).body.items.map((o: { event_id: string }) => o.event_id)).toEqual([
        start.body.event_id,
      ]);
    } finally {
      mqClient.close();
      raw.close();
    }
  });

  it('accepts an action while mq is down (202) and hands the task over once mq is back', async () => {
    const dev = as('dev');
    await dev('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: 'patient', source: { image: 'busybox' } });
    const address = mq.grpc;
    await mq.stop();
    const res = await dev('POST', '/api/v1/tenants/acme/components/acme.shop.patient/operations', { kind: 'upgrade' });
    expect(res.status).toBe(202);
    expect((await dev('GET', `/api/v1/tenants/acme/operations/${res.body.event_id}`)).body.status).toBe('pending');
    mq = await startMq(etcd, { WHARF_MQ_GRPC_ADDR: address });
    const mqClient = createClient(mqV1.MqService, mq.grpc, { security: etcd.pki.security('builder') });
    try {
      const delivered = await waitFor(
        'the task to reach mq',
        async () => {
          const { deliveries } = await mqClient.dequeue({ topic: 'upgrade', waitMs: 500 });
          return deliveries.length ? deliveries : undefined;
        },
        30000,
      );
      expect(delivered.map((d) => d.task!.taskId)).toEqual([res.body.event_id]);
    } finally {
      mqClient.close();
    }
  });

  it("guards tenant changes with the tenant's ETag: a stale If-Match is 409 and changes nothing", async () => {
    const quota = await admin('GET', '/api/v1/tenants/globex/quota');
    const etag = quota.headers.get('etag')!;
    expect(etag).toMatch(/^"\d+"$/);
    const body = { max_apps: 10, max_components: 20, max_cpu_millis: 0, max_memory_mib: 0 };
    const set = await admin('PUT', '/api/v1/tenants/globex/quota', body, { 'if-match': etag });
    expect(set.status).toBe(200);
    expect(set.headers.get('etag')).not.toBe(etag);
    expect((await admin('PUT', '/api/v1/tenants/globex/quota', { ...body, max_apps: 1 }, { 'if-match': etag })).status).toBe(409);
    expect((await admin('POST', '/api/v1/tenants/globex/members', { user_id: 'vic', role: 'viewer' }, { 'if-match': etag })).status).toBe(409);
    expect((await admin('GET', '/api/v1/tenants/globex/quota')).body.max_apps).toBe(10);
    expect((await admin('GET', '/api/v1/tenants/globex/members?role=viewer')).body.items).toEqual([]);
    expect((await admin('GET', '/api/v1/tenants/acme/members?role=viewer')).body.items).toEqual([{ user_id: 'vic', role: 'viewer' }]);
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

  describe('isolation matrix: every route x every role x a foreign tenant', () => {
    // signed: the receiver of webhooks, whose signature (not a token) decides; unsigned: refused whoever calls.
    type Need = 'auth' | 'read' | 'write' | 'operate' | 'manage' | 'admin' | 'signed' | 'unsigned';
    let n = 0;
    const fresh = (p: string) => `${p}${++n}`;
    /** A fresh git component of acme (made by the admin), with a webhook when asked. */
    const gitComponent = async (withHook: boolean) => {
      const name = fresh('hooked');
      await admin('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name, source: { git: { url: 'https://git.example.com/acme/site.git' } } });
      const path = `/api/v1/tenants/acme/components/acme.shop.${name}`;
      const hook = withHook ? (await admin('POST', `${path}/webhook`)).body : undefined;
      return { path, hook };
    };
    const signedPing = async (): Promise<[string, string, unknown, Record<string, string>]> => {
      const { hook } = await gitComponent(true);
      const body = JSON.stringify({ zen: 'Speak like a human.' });
      const signature = `sha256=${createHmac('sha256', hook.secret).update(body).digest('hex')}`;
      return ['POST', hook.path, body, { 'x-github-event': 'ping', 'x-hub-signature-256': signature }];
    };
    // Each route builds its own request (fresh names), after any set-up done as admin.
    const routes: { name: string; need: Need; make: () => Promise<[string, string, unknown?, Record<string, string>?]> }[] = [
      { name: 'GET tenant', need: 'read', make: async () => ['GET', '/api/v1/tenants/acme'] },
      { name: 'GET members', need: 'read', make: async () => ['GET', '/api/v1/tenants/acme/members'] },
      { name: 'GET quota', need: 'read', make: async () => ['GET', '/api/v1/tenants/acme/quota'] },
      { name: 'GET apps', need: 'read', make: async () => ['GET', '/api/v1/tenants/acme/apps'] },
      { name: 'GET app', need: 'read', make: async () => ['GET', '/api/v1/tenants/acme/apps/acme.shop'] },
      { name: 'GET components', need: 'read', make: async () => ['GET', '/api/v1/tenants/acme/apps/acme.shop/components'] },
      { name: 'GET component', need: 'read', make: async () => ['GET', '/api/v1/tenants/acme/components/acme.shop.web'] },
      { name: 'GET operations', need: 'read', make: async () => ['GET', '/api/v1/tenants/acme/operations'] },
      { name: 'GET component status', need: 'read', make: async () => ['GET', '/api/v1/tenants/acme/components/acme.shop.web/status'] },
      { name: 'GET versions', need: 'read', make: async () => ['GET', '/api/v1/tenants/acme/components/acme.shop.web/versions'] },
      {
        name: 'GET version',
        need: 'read',
        make: async () => {
          const raw = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
          // The builder's part: a recorded version.
          await new EtcdEventStore({ client: raw }).append(
            'component/acme.shop.web',
            [
              {
                message: create(eventsV1.VersionRecordedSchema, { componentId: 'acme.shop.web', versionId: 'v1', image: 'reg/acme/web:v1', status: 'success' }),
                actor: 'service:builder',
              },
            ],
            'any',
          );
          raw.close();
          await waitFor('the version', async () =>
            (await admin('GET', '/api/v1/tenants/acme/components/acme.shop.web/versions/v1')).status === 200 ? true : undefined,
          );
          return ['GET', '/api/v1/tenants/acme/components/acme.shop.web/versions/v1'];
        },
      },
      { name: 'GET me', need: 'auth', make: async () => ['GET', '/api/v1/me'] },
      { name: 'GET tokens', need: 'auth', make: async () => ['GET', '/api/v1/tokens'] },
      {
        name: 'GET operation',
        need: 'read',
        make: async () => {
          const ops = await admin('GET', '/api/v1/tenants/acme/operations?limit=1');
          return ['GET', `/api/v1/tenants/acme/operations/${ops.body.items[0].event_id}`];
        },
      },
      { name: 'POST app', need: 'write', make: async () => ['POST', '/api/v1/tenants/acme/apps', { name: fresh('app') }] },
      {
        name: 'DELETE app',
        need: 'write',
        make: async () => {
          const name = fresh('gone');
          await admin('POST', '/api/v1/tenants/acme/apps', { name });
          return ['DELETE', `/api/v1/tenants/acme/apps/acme.${name}`];
        },
      },
      {
        name: 'POST component',
        need: 'write',
        make: async () => ['POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name: fresh('c'), source: { image: 'nginx' } }],
      },
      {
        name: 'PUT component',
        need: 'write',
        make: async () => ['PUT', '/api/v1/tenants/acme/components/acme.shop.web', { source: { image: 'nginx:1.27' }, replicas: 3 }],
      },
      {
        name: 'DELETE component',
        need: 'write',
        make: async () => {
          const name = fresh('del');
          await admin('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name, source: { image: 'nginx' } });
          return ['DELETE', `/api/v1/tenants/acme/components/acme.shop.${name}`];
        },
      },
      {
        name: 'POST operation',
        need: 'operate',
        make: async () => ['POST', '/api/v1/tenants/acme/components/acme.shop.web/operations', { kind: 'restart', queue: true }],
      },
      {
        name: 'POST member',
        need: 'manage',
        make: async () => {
          const user = fresh('u');
          await admin('POST', '/api/v1/users', { name: user });
          return ['POST', '/api/v1/tenants/acme/members', { user_id: user, role: 'viewer' }];
        },
      },
      { name: 'PUT member', need: 'manage', make: async () => ['PUT', '/api/v1/tenants/acme/members/vic', { role: 'viewer' }] },
      {
        name: 'DELETE member',
        need: 'manage',
        make: async () => {
          const user = fresh('m');
          await admin('POST', '/api/v1/users', { name: user });
          await admin('POST', '/api/v1/tenants/acme/members', { user_id: user, role: 'viewer' });
          return ['DELETE', `/api/v1/tenants/acme/members/${user}`];
        },
      },
      {
        name: 'PUT quota',
        need: 'admin',
        make: async () => ['PUT', '/api/v1/tenants/acme/quota', { max_apps: 0, max_components: 0, max_cpu_millis: 0, max_memory_mib: 0 }],
      },
      { name: 'POST tenant', need: 'admin', make: async () => ['POST', '/api/v1/tenants', { name: fresh('t') }] },
      { name: 'POST user', need: 'admin', make: async () => ['POST', '/api/v1/users', { name: fresh('nu') }] },
      { name: 'GET users', need: 'admin', make: async () => ['GET', '/api/v1/users'] },
      { name: 'GET nodes', need: 'admin', make: async () => ['GET', '/api/v1/nodes'] },
      { name: 'GET node', need: 'admin', make: async () => ['GET', `/api/v1/nodes/${await registerNode(fresh('node'))}`] },
      { name: 'POST node state', need: 'admin', make: async () => ['POST', `/api/v1/nodes/${await registerNode(fresh('node'))}/state`, { action: 'offline' }] },
      {
        name: 'PUT node labels',
        need: 'admin',
        make: async () => ['PUT', `/api/v1/nodes/${await registerNode(fresh('node'))}/labels`, { labels: { zone: 'a' } }],
      },
      { name: 'PUT node roles', need: 'admin', make: async () => ['PUT', `/api/v1/nodes/${await registerNode(fresh('node'))}/roles`, { roles: ['compute'] }] },
      {
        name: 'POST node task',
        need: 'admin',
        make: async () => ['POST', '/api/v1/node-tasks', { task: 'disk-usage', nodes: [await registerNode(fresh('node'), true)] }],
      },
      {
        name: 'GET node task',
        need: 'admin',
        make: async () => {
          const r = await admin('POST', '/api/v1/node-tasks', { task: 'disk-usage', nodes: [await registerNode(fresh('node'), true)] });
          return ['GET', `/api/v1/node-tasks/${r.body.event_id}`];
        },
      },
      { name: 'POST webhook', need: 'write', make: async () => ['POST', `${(await gitComponent(false)).path}/webhook`] },
      { name: 'GET webhook', need: 'write', make: async () => ['GET', `${(await gitComponent(true)).path}/webhook`] },
      { name: 'DELETE webhook', need: 'write', make: async () => ['DELETE', `${(await gitComponent(true)).path}/webhook`] },
      { name: 'POST hook (signed)', need: 'signed', make: signedPing },
      {
        name: 'POST hook (unsigned)',
        need: 'unsigned',
        make: async () => ['POST', (await gitComponent(true)).hook.path, JSON.stringify({ ref: 'refs/heads/main' }), { 'x-github-event': 'push' }],
      },
    ];
    const grants: Record<string, Need[]> = {
      admin: ['auth', 'read', 'write', 'operate', 'manage', 'admin'],
      olive: ['auth', 'read', 'write', 'operate', 'manage'],
      dev: ['auth', 'read', 'write', 'operate'],
      vic: ['auth', 'read'],
      gus: ['auth'],
      anonymous: [],
    };

    it.each(Object.keys(grants))('%s gets exactly its rights', async (who) => {
      const call = who === 'admin' ? admin : who === 'anonymous' ? client(api.url) : as(who);
      const outcome: Record<string, string> = {};
      const expected: Record<string, string> = {};
      for (const route of routes) {
        const [method, path, body, headers] = await route.make();
        const res = await call(method, path, body, headers);
        outcome[route.name] =
          res.status >= 500
            ? `5xx ${res.status}`
            : res.status === 401
              ? '401'
              : res.status === 403
                ? '403'
                : res.status === 404
                  ? '404'
                  : res.status < 300
                    ? 'ok'
                    : `other ${res.status}`;
        expected[route.name] =
          route.need === 'signed'
            ? 'ok'
            : route.need === 'unsigned' || who === 'anonymous'
              ? '401'
              : grants[who].includes(route.need)
                ? 'ok'
                : who === 'gus' && path.startsWith('/api/v1/tenants/acme')
                  ? '404' // a foreign tenant does not exist for you
                  : '403';
      }
      expect(outcome).toEqual(expected);
    });

    it("cannot reach another tenant's objects through its own tenant path", async () => {
      expect((await as('gus')('GET', '/api/v1/tenants/globex/components/acme.shop.web')).status).toBe(404);
      expect((await as('gus')('GET', '/api/v1/tenants/globex/apps/acme.shop')).status).toBe(404);
      expect((await as('dev')('GET', '/api/v1/tenants/globex/apps/globex.secret-app')).status).toBe(404);
      const ops = await admin('GET', '/api/v1/tenants/acme/operations?limit=1');
      expect((await as('gus')('GET', `/api/v1/tenants/globex/operations/${ops.body.items[0].event_id}`)).status).toBe(404);
      // The foreign tenant's 404 reads exactly like a tenant that does not exist.
      const foreign = await as('dev')('GET', '/api/v1/tenants/globex');
      const missing = await as('dev')('GET', '/api/v1/tenants/nosuchtenant');
      expect(foreign.body.error.message.replace('globex', 'X')).toBe(missing.body.error.message.replace('nosuchtenant', 'X'));
    });
  });

  it('nodes: admin views and moves them; bad labels, roles, ids, tasks and illegal moves are clear errors that change nothing', async () => {
    await registerNode('edge-1', true);
    await registerNode('edge-2');
    const list = await admin('GET', '/api/v1/nodes');
    expect(list.status).toBe(200);
    expect(list.body.items.map((n: { id: string }) => n.id)).toEqual(expect.arrayContaining(['edge-1', 'edge-2']));
    const one = await admin('GET', '/api/v1/nodes/edge-1');
    expect(one.body).toMatchObject({
      id: 'edge-1',
      state: 'NEW',
      cordoned: false,
      roles: ['compute'],
      allowed_actions: ['init', 'offline'],
      heartbeat: { alive: true },
    });
    expect((await admin('GET', '/api/v1/nodes/edge-2')).body.heartbeat).toEqual({ alive: false });

    // Illegal moves name the state and what is allowed; nothing is written.
    const cordon = await admin('POST', '/api/v1/nodes/edge-1/state', { action: 'cordon' });
    expect(cordon.status).toBe(409);
    expect(cordon.body.error.message).toBe('node edge-1 is NEW: cannot cordon; allowed from NEW: init, offline');
    expect((await admin('POST', '/api/v1/nodes/edge-1/state', { action: 'explode' })).status).toBe(400);
    expect((await admin('POST', '/api/v1/nodes/nope/state', { action: 'cordon' })).status).toBe(404);
    expect((await admin('POST', '/api/v1/nodes/Bad_Id/state', { action: 'cordon' })).body.error.message).toContain('must be 1-52 characters');

    // Labels: Kubernetes syntax, every bad one named, none applied.
    expect((await admin('PUT', '/api/v1/nodes/edge-1/labels', { labels: { zone: 'eu-1', 'wharf.io/disk': 'ssd' } })).body.labels).toEqual({
      zone: 'eu-1',
      'wharf.io/disk': 'ssd',
    });
    const bad = await admin('PUT', '/api/v1/nodes/edge-1/labels', { labels: { zone: 'eu-2', 'bad key': 'x', ok: '-dash' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('label "bad key"');
    expect(bad.body.error.message).toContain('label "ok"="-dash"');
    expect(bad.body.error.field).toBe('labels["bad key"]');
    // Keys the kubelet and Wharf's roles own on the Kubernetes node are refused too.
    const reserved = await admin('PUT', '/api/v1/nodes/edge-1/labels', {
      labels: { zone: 'eu-3', 'kubernetes.io/hostname': 'x', 'wharf.io/role-compute': 'true' },
    });
    expect(reserved.status).toBe(400);
    expect(reserved.body.error.message).toContain("the prefix kubernetes.io is reserved for Kubernetes' own node labels");
    expect(reserved.body.error.message).toContain("wharf.io/role-* labels are the node's roles");
    expect((await admin('GET', '/api/v1/nodes/edge-1')).body.labels).toEqual({ zone: 'eu-1', 'wharf.io/disk': 'ssd' });
    const roles = await admin('PUT', '/api/v1/nodes/edge-1/roles', { roles: ['gateway', 'cook'] });
    expect(roles.status).toBe(400);
    expect(roles.body.error.message).toContain('"cook" is no role');
    expect((await admin('PUT', '/api/v1/nodes/edge-1/roles', { roles: ['gateway', 'compute'] })).body.roles).toEqual(['compute', 'gateway']);

    // Node tasks: unknown task, unknown node, silent node, OFFLINE node.
    const unknownTask = await admin('POST', '/api/v1/node-tasks', { task: 'format-disk', nodes: ['edge-1'] });
    expect(unknownTask.status).toBe(400);
    expect(unknownTask.body.error.message).toBe('"format-disk" is no node task (disk-usage, container-list, prune-images, health-check)');
    const unknownNode = await admin('POST', '/api/v1/node-tasks', { task: 'disk-usage', nodes: ['edge-1', 'ghost'] });
    expect(unknownNode.status).toBe(404);
    expect(unknownNode.body.error.message).toBe('no such node: ghost');
    const silent = await admin('POST', '/api/v1/node-tasks', { task: 'disk-usage', nodes: ['edge-2'] });
    expect(silent.status).toBe(409);
    expect(silent.body.error.message).toContain('edge-2 is not reporting');
    expect((await admin('POST', '/api/v1/nodes/edge-1/state', { action: 'offline' })).body.state).toBe('OFFLINE');
    const offline = await admin('POST', '/api/v1/node-tasks', { task: 'disk-usage', nodes: ['edge-1'] });
    expect(offline.status).toBe(409);
    expect(offline.body.error.message).toBe('node edge-1 is OFFLINE: an OFFLINE node runs no tasks');
    expect((await admin('GET', '/api/v1/node-tasks/evt-00000000-0000-0000-0000-000000000000')).status).toBe(404);

    // A task that is accepted is one mq task per node, on that node's topic.
    await registerNode('edge-3', true);
    const accepted = await admin('POST', '/api/v1/node-tasks', { task: 'container-list', nodes: ['edge-3'] });
    expect(accepted.status).toBe(202);
    const stats = await mq.admin.stats({ topics: ['node-task.edge-3'] });
    expect(Number(stats.topics[0].depth)).toBe(1);
    const task = await admin('GET', `/api/v1/node-tasks/${accepted.body.event_id}`);
    expect(task.body).toMatchObject({ event_id: accepted.body.event_id, task: 'container-list', nodes: ['edge-3'], status: 'pending' });

    const doc = (await client(api.url)('GET', '/docs/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/nodes', '/api/v1/nodes/{node}', '/api/v1/nodes/{node}/labels', '/api/v1/node-tasks']),
    );
  });

  it('finds no 5xx for random methods, paths and bodies (fast-check)', async () => {
    // The fuzzer owns a tenant of its own, so its random writes cannot disturb the other tests.
    await admin('POST', '/api/v1/tenants', { name: 'fuzz' });
    await admin('POST', '/api/v1/users', { name: 'fuzzer' });
    await admin('POST', '/api/v1/tenants/fuzz/members', { user_id: 'fuzzer', role: 'owner' });
    const dev = client(api.url, (await admin('POST', '/api/v1/users/fuzzer/tokens', { name: 'fuzz' })).body.token);
    await dev('POST', '/api/v1/tenants/fuzz/apps', { name: 'app' });
    await dev('POST', '/api/v1/tenants/fuzz/apps/fuzz.app/components', { name: 'comp', source: { image: 'nginx' } });
    const segment = fc.oneof(
      fc.constantFrom('fuzz', 'acme', 'fuzz.app', 'fuzz.app.comp', 'acme.shop.web', 'apps', 'components', 'operations', 'members', '..', '%00', '%2e%2e'),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
    const path = fc.array(segment, { maxLength: 6 }).map((segs) => `/api/v1/tenants/${segs.join('/')}`);
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 50 }),
      fc.constant('{"source":{"git":{"url":"ssh://-oProxyCommand=x/"}},"name":"a"}'),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), path, body, fc.option(fc.string({ maxLength: 20 })), async (method, p, b, ifMatch) => {
        const res = await dev(
          method,
          p,
          method === 'GET' || method === 'DELETE' ? undefined : b,
          ifMatch ? { 'if-match': ifMatch.replace(/[^\x20-\x7e]/g, '') } : {},
        );
        return res.status < 500;
      }),
      { numRuns: 200 },
    );
  });
});
