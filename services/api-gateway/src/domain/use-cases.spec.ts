import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { WharfError } from '@wharf/errors';
import { Projection } from '@wharf/event-store';
import type { Principal } from '@wharf/identity';
import { createLogger } from '@wharf/logging';
import { httpErrorOf } from '@wharf/service-kit';
import { decodeTask } from '@wharf/tasks';
import { ManualClock, SequentialIds } from '@wharf/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryEventStore } from '../../test/memory-event-store';
import { SecretBox } from '../adapters/aes-secret-box.adapter';
import { AppsService } from './apps.service';
import { catalogProjection, type Catalog } from './catalog';
import { ComponentsService } from './components.service';
import { GatewayContext } from './gateway-context';
import { IdentityService } from './identity.service';
import { OperationsService } from './operations.service';
import { componentPatchSchema, componentSpecSchema, createComponentSchema, operationSchema } from './schemas';
import { TaskDispatcher, type TaskQueue } from './task-dispatcher';
import { TenantsService } from './tenants.service';
import { VersionsService } from './versions.service';
import { componentView } from './views/component.view';

/** The use cases against the event store contract in memory, a manual clock, predictable ids and a recording queue. */
async function setup() {
  const store = new MemoryEventStore();
  const projection = new Projection(store, catalogProjection);
  await projection.start();
  const sent: { topic: string; eventId: string; payload: ReturnType<typeof decodeTask> }[] = [];
  const queue: TaskQueue = {
    enqueue: async (topic, eventId, payload) => void sent.push({ topic, eventId, payload: decodeTask(payload, topic) }),
  };
  const tasks = new TaskDispatcher(queue, createLogger('test', 'silent'));
  projection.state.onActivated = (op) => void tasks.dispatch(op);
  const box = new SecretBox(Buffer.alloc(32, 7));
  const clock = new ManualClock();
  const ctx = new GatewayContext(store, projection, clock, new SequentialIds());
  const operations = new OperationsService(ctx, tasks, null);
  const gw = {
    identity: new IdentityService(ctx),
    tenants: new TenantsService(ctx),
    apps: new AppsService(ctx),
    components: new ComponentsService(ctx, box, operations, { domain: 'dc1.example.com' }),
    versions: new VersionsService(ctx),
    operations,
  };
  const token = (await gw.identity.bootstrapAdmin())!;
  const admin = gw.identity.authenticate(`Bearer ${token}`);
  await gw.tenants.createTenant(admin, { name: 'acme' });
  await gw.apps.createApp(admin, 'acme', { name: 'shop', description: '' });
  await gw.components.createComponent(
    admin,
    'acme',
    'acme.shop',
    createComponentSchema.parse({ name: 'api', source: { image: 'nginx' }, env: [{ name: 'PW', value: 's3cret', secret: true }] }),
  );
  return { store, projection, gw, admin, sent, box, clock, catalog: () => projection.state as Catalog };
}

const status = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'ok';
  } catch (err) {
    if (err instanceof WharfError) return httpErrorOf(err).status;
    throw err;
  }
};

describe('the use cases', () => {
  it('stores secret env values sealed, bound to their component and name, and never shows them', async () => {
    const { box, catalog } = await setup();
    const c = catalog().components.get('acme.shop.api')!;
    const env = c.spec.env[0];
    expect(env).toMatchObject({ name: 'PW', secret: true, value: '' });
    expect(box.open(env.encryptedValue, 'acme.shop.api/PW')).toBe('s3cret');
    expect(() => box.open(env.encryptedValue, 'acme.shop.other/PW')).toThrow();
    expect(JSON.stringify(componentView(c))).not.toContain('s3cret');
    expect(componentView(c).env).toEqual([{ name: 'PW', secret: true, value: null }]);
  });

  it('answers 409 for a stale If-Match and appends nothing', async () => {
    const { gw, admin, store } = await setup();
    const before = store.events.length;
    const spec = componentSpecSchema.parse({ source: { image: 'nginx:2' } });
    expect(await status(gw.components.updateComponent(admin, 'acme', 'acme.shop.api', spec, 7))).toBe(409);
    expect(store.events.length).toBe(before);
    expect(await status(gw.components.updateComponent(admin, 'acme', 'acme.shop.api', spec, 1))).toBe('ok');
  });

  it("keeps a component's placement, and refuses a bad one with 400 naming the label, appending nothing", async () => {
    const { gw, admin, store, catalog } = await setup();
    const before = store.events.length;
    const bad = componentSpecSchema.parse({ source: { image: 'nginx' }, placement: { 'disk type': 'ssd' } });
    let err: unknown;
    await gw.components.updateComponent(admin, 'acme', 'acme.shop.api', bad, undefined).catch((e: unknown) => (err = e));
    expect(err).toBeInstanceOf(WharfError);
    expect(httpErrorOf(err as WharfError)).toMatchObject({ status: 400 });
    expect((err as Error).message).toContain('placement: label "disk type"');
    expect(store.events.length).toBe(before);
    const good = componentSpecSchema.parse({ source: { image: 'nginx' }, placement: { disk: 'ssd', 'kubernetes.io/hostname': 'node-1' } });
    expect(await status(gw.components.updateComponent(admin, 'acme', 'acme.shop.api', good, undefined))).toBe('ok');
    expect(componentView(catalog().components.get('acme.shop.api')!).placement).toEqual({ disk: 'ssd', 'kubernetes.io/hostname': 'node-1' });
  });

  it('enforces tenant quotas on apps, components, cpu and memory', async () => {
    const { gw, admin } = await setup();
    await gw.tenants.setQuota(admin, 'acme', { max_apps: 1, max_components: 2, max_cpu_millis: 1500, max_memory_mib: 0 });
    expect(await status(gw.apps.createApp(admin, 'acme', { name: 'two', description: '' }))).toBe(403);
    const make = (name: string, cpu: number) =>
      gw.components.createComponent(admin, 'acme', 'acme.shop', createComponentSchema.parse({ name, source: { image: 'nginx' }, cpu_millis: cpu }));
    expect(await status(make('big', 1001))).toBe(403); // 500 (api) + 1001 > 1500
    expect(await status(make('small', 1000))).toBe('ok');
    expect(await status(make('third', 10))).toBe(403); // max_components
  });

  it('rolls back to the previous deployed version, refuses unknown versions and a rollback with nothing to go back to', async () => {
    const { gw, admin, store, sent } = await setup();
    const op = (kind: string, extra = {}) => gw.operations.requestOperation(admin, 'acme', 'acme.shop.api', operationSchema.parse({ kind, ...extra }));
    expect(await status(op('rollback'))).toBe(409);
    expect(await status(op('deploy', { version_id: 'v9' }))).toBe(400);
    const builder = async (versionId: string) => {
      const version = await store.version('component/acme.shop.api');
      await store.append(
        'component/acme.shop.api',
        [
          {
            message: create(eventsV1.VersionRecordedSchema, { componentId: 'acme.shop.api', versionId, image: `reg/acme/api:${versionId}`, status: 'success' }),
          },
        ],
        version,
      );
      await store.append('component/acme.shop.api', [{ message: create(eventsV1.VersionDeployedSchema, { componentId: 'acme.shop.api', versionId }) }], 'any');
    };
    await builder('v1');
    await builder('v2');
    expect(gw.versions.getVersion(admin, 'acme', 'acme.shop.api', 'v1')).toMatchObject({ id: 'v1', image: 'reg/acme/api:v1' });
    expect(gw.versions.listVersions(admin, 'acme', 'acme.shop.api', { limit: 1 })).toMatchObject({ items: [{ id: 'v2' }], next_cursor: 'v2' });
    expect(gw.versions.listVersions(admin, 'acme', 'acme.shop.api', { limit: 1, cursor: 'v2' })).toMatchObject({ items: [{ id: 'v1' }], next_cursor: null });
    const { event_id } = await op('rollback');
    expect(sent.at(-1)).toMatchObject({
      topic: 'rollback',
      eventId: event_id,
      payload: { kind: { case: 'rollback', value: { eventId: event_id, componentId: 'acme.shop.api', tenantId: 'acme', versionId: 'v1' } } },
    });
  });

  it('queues an operation behind a running one and enqueues it only when that one finishes', async () => {
    const { gw, admin, store, sent, catalog } = await setup();
    const op = (kind: string, extra = {}) => gw.operations.requestOperation(admin, 'acme', 'acme.shop.api', operationSchema.parse({ kind, ...extra }));
    const view = () => componentView(catalog().components.get('acme.shop.api')!);
    expect(view().active_operation).toBeNull();
    const first = await op('build');
    expect(view().active_operation).toBe(first.event_id);
    expect(await status(op('deploy'))).toBe(409);
    const second = await op('deploy', { queue: true });
    expect(second.queued).toBe(true);
    expect(sent.map((s) => s.eventId)).toEqual([first.event_id]);
    // On the operation's own stream: the component's version does not move, its view must still change.
    await store.append(
      `operation/${first.event_id}`,
      [{ message: create(eventsV1.OperationFinishedSchema, { eventId: first.event_id, status: eventsV1.OperationStatus.SUCCESS }) }],
      'any',
    );
    expect(sent.map((s) => s.eventId)).toEqual([first.event_id, second.event_id]);
    expect(view().active_operation).toBe(second.event_id); // the cached view followed the hand-over
    expect(await gw.operations.getOperation(admin, 'acme', first.event_id)).toMatchObject({
      status: 'success',
      steps: [],
      steps_error: expect.stringContaining('WHARF_EVENTLOG_ADDR'),
    });
  });

  it('pauses and resumes the running rollout at once (not queued behind it), and refuses with no rollout running', async () => {
    const { gw, admin, sent } = await setup();
    const op = (kind: string, extra = {}) => gw.operations.requestOperation(admin, 'acme', 'acme.shop.api', operationSchema.parse({ kind, ...extra }));
    expect(await status(op('pause'))).toBe(409);
    const restart = await op('restart');
    const pause = await op('pause');
    expect(pause.queued).toBe(false);
    expect(sent.at(-1)).toMatchObject({
      topic: 'pause',
      eventId: pause.event_id,
      payload: { kind: { case: 'pause', value: { rolloutEventId: restart.event_id } } },
    });
    const resume = await op('resume');
    expect(sent.at(-1)).toMatchObject({ topic: 'resume', eventId: resume.event_id });
    expect((await gw.operations.getOperation(admin, 'acme', resume.event_id)).args).toEqual({ rollout_event_id: restart.event_id });
  });

  it("builds the component's source and can deploy after the build", async () => {
    const { gw, admin, sent } = await setup();
    const build = await gw.operations.requestOperation(admin, 'acme', 'acme.shop.api', operationSchema.parse({ kind: 'build', deploy_after: true }));
    expect(sent.at(-1)).toMatchObject({
      topic: 'build',
      eventId: build.event_id,
      payload: { kind: { case: 'build', value: { deployAfter: true, source: { kind: { case: 'image', value: { image: 'nginx' } } } } } },
    });
    expect((await gw.operations.getOperation(admin, 'acme', build.event_id)).args).toEqual({ source: { image: 'nginx' }, deploy_after: true });
  });

  it('expires a token by the injected clock', async () => {
    const { gw, admin, clock } = await setup();
    const { token, expires_at_ms } = await gw.identity.createToken(admin, 'admin', { name: 'short', expires_in_days: 1 });
    expect(expires_at_ms).toBe(clock.now() + 86_400_000);
    expect(await status(() => gw.identity.authenticate(`Bearer ${token}`))).toBe('ok');
    clock.advance(86_400_000);
    expect(await status(() => gw.identity.authenticate(`Bearer ${token}`))).toBe(401);
  });

  it('deletes a component through a delete operation: gone when it succeeds, kept when it fails', async () => {
    const { gw, admin, store, sent, catalog } = await setup();
    const finish = (eventId: string, status: eventsV1.OperationStatus) =>
      store.append(`operation/${eventId}`, [{ message: create(eventsV1.OperationFinishedSchema, { eventId, status }) }], 'any');
    expect(await status(gw.components.deleteComponent(admin, 'acme', 'acme.shop.api', 9))).toBe(409); // stale If-Match
    const failed = await gw.components.deleteComponent(admin, 'acme', 'acme.shop.api', 1);
    expect(sent.at(-1)).toMatchObject({ topic: 'delete', eventId: failed.event_id });
    await finish(failed.event_id, eventsV1.OperationStatus.FAILURE);
    expect(await status(() => gw.components.getComponent(admin, 'acme', 'acme.shop.api'))).toBe('ok');
    const ok = await gw.components.deleteComponent(admin, 'acme', 'acme.shop.api', undefined);
    expect(await status(() => gw.components.getComponent(admin, 'acme', 'acme.shop.api'))).toBe('ok'); // until it succeeds
    await finish(ok.event_id, eventsV1.OperationStatus.SUCCESS);
    expect(await status(() => gw.components.getComponent(admin, 'acme', 'acme.shop.api'))).toBe(404);
    expect(gw.components.listComponents(admin, 'acme', 'acme.shop', { limit: 50 }).items).toEqual([]);
    expect(catalog().componentsByApp.get('acme.shop')!.size).toBe(0);
  });

  it('hides other tenants (404) and refuses roles their missing rights (403)', async () => {
    const { gw, admin } = await setup();
    await gw.tenants.createTenant(admin, { name: 'globex' });
    await gw.identity.createUser(admin, { name: 'vic', admin: false });
    await gw.tenants.setMember(admin, 'acme', 'vic', 'viewer');
    const vicToken = (await gw.identity.createToken(admin, 'vic', { name: 't' })).token;
    const vic: Principal = gw.identity.authenticate(`Bearer ${vicToken}`);
    expect(await status(() => gw.components.getComponent(vic, 'acme', 'acme.shop.api'))).toBe('ok');
    expect(
      await status(() => gw.components.updateComponent(vic, 'acme', 'acme.shop.api', componentSpecSchema.parse({ source: { image: 'nginx' } }), undefined)),
    ).toBe(403);
    expect(await status(() => gw.tenants.getTenant(vic, 'globex'))).toBe(404);
    expect(await status(() => gw.components.getComponent(vic, 'globex', 'acme.shop.api'))).toBe(404);
    expect(gw.tenants.listTenants(vic, { limit: 50 }).items.map((t) => t.id)).toEqual(['acme']);
    expect(await status(() => gw.identity.authenticate('Bearer nope'))).toBe(401);
  });
});

describe('gateway routes (the rules of @wharf/routing, before anything is written)', () => {
  const web = { port: 8080, protocol: 'http', public: true };
  const fixture = (name: string) => readFileSync(join(__dirname, '__fixtures__', name), 'utf8');
  const error = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      if (err instanceof WharfError) return { ...httpErrorOf(err), reason: err.reason, field: err.field };
      throw err;
    }
    return undefined;
  };
  async function routed() {
    const t = await setup();
    const make = (name: string, extra: object, tenant = 'acme', app = 'acme.shop') =>
      t.gw.components.createComponent(t.admin, tenant, app, createComponentSchema.parse({ name, source: { image: 'nginx' }, ports: [web], ...extra }));
    await make('web', { routes: [{ host: 'shop.example.com', path_prefix: '/v1/', port: 8080 }], tcp_ports: [] });
    return { ...t, make };
  }

  it('refuses a host + path prefix another component holds with 409 route_owned naming it, and appends nothing', async () => {
    const { make, store } = await routed();
    const before = store.events.length;
    const refused = await error(make('copy', { routes: [{ host: 'shop.example.com', path_prefix: '/v1', port: 8080 }] }));
    expect(refused).toMatchObject({ status: 409, reason: 'route_owned', field: 'routes[0]' });
    expect(refused?.body.error.message).toBe('shop.example.com/v1 is already routed to component acme/shop/web (acme.shop.web)');
    expect(store.events.length).toBe(before);
    expect(await status(make('v2', { routes: [{ host: 'shop.example.com', path_prefix: '/v2', port: 8080 }] }))).toBe('ok');
    expect(await status(make('other', { routes: [{ host: 'www.example.com', port: 8080 }] }))).toBe('ok');
  });

  it('gives a route to one of two racing creates (the claim in the store decides) and lets a dropped route be taken', async () => {
    const { gw, admin, make, store } = await routed();
    const route = { routes: [{ host: 'race.example.com', port: 8080 }] };
    const [a, b] = await Promise.all([error(make('a', route)), error(make('b', route))]);
    expect([a, b].filter((e) => e === undefined)).toHaveLength(1);
    expect(a ?? b).toMatchObject({ status: 409, reason: 'route_owned', field: 'routes[0]' });
    const holder = a === undefined ? 'acme.shop.a' : 'acme.shop.b';
    expect([...store.claims.values()].find((c) => c.name === 'route/http race.example.com/')?.holder).toBe(holder);
    expect(store.events.filter((e) => e.type === 'wharf.events.v1.ComponentCreated').map((e) => e.stream)).not.toContain(
      holder === 'acme.shop.a' ? 'component/acme.shop.b' : 'component/acme.shop.a',
    );
    await gw.components.updateComponent(admin, 'acme', holder, componentSpecSchema.parse({ source: { image: 'nginx' }, ports: [web] }), undefined);
    expect(await status(make('c', route))).toBe('ok');
    expect([...store.claims.values()].find((c) => c.name === 'route/http race.example.com/')?.holder).toBe('acme.shop.c');
  });

  it("refuses a component's own default host to another and a taken TCP port; an update keeps its own claims", async () => {
    const { gw, admin, make } = await routed();
    expect(await error(make('two', { routes: [{ host: 'web.shop.acme.dc1.example.com', port: 8080 }] }))).toMatchObject({
      status: 400,
      field: 'routes[0].host',
    });
    const tcp = { ports: [{ port: 5432, protocol: 'tcp' }], tcp_ports: [{ listen_port: 15432, port: 5432 }] };
    expect(await status(make('db', tcp))).toBe('ok');
    expect(await error(make('db2', tcp))).toMatchObject({ status: 409, reason: 'route_owned', field: 'tcp_ports[0].listen_port' });
    const same = componentSpecSchema.parse({
      source: { image: 'nginx:2' },
      ports: [web],
      routes: [{ host: 'shop.example.com', path_prefix: '/v1', port: 8080 }],
    });
    expect(await status(gw.components.updateComponent(admin, 'acme', 'acme.shop.web', same, undefined))).toBe('ok');
  });

  it('names the field of a route the gateway could not serve (400)', async () => {
    const { make } = await routed();
    const bad = async (extra: object) => (await error(make('bad', extra)))?.field;
    expect(await bad({ routes: [{ host: 'a.example.com', port: 9090 }] })).toBe('routes[0].port');
    expect(await bad({ routes: [{ host: 'a.example.com', path_prefix: '/a%20b', port: 8080 }] })).toBe('routes[0].path_prefix');
    expect(await bad({ routes: [{ host: 'a.example.com', path_prefix: '/a/../b', port: 8080 }] })).toBe('routes[0].path_prefix');
    expect(
      await bad({
        routes: [
          { host: 'a.example.com', port: 8080 },
          { host: 'a.example.com', path_prefix: '/', port: 8080 },
        ],
      }),
    ).toBe('routes[1]');
    expect(await bad({ tcp_ports: [{ listen_port: 15000, port: 8080 }] })).toBe('tcp_ports[0].port');
  });

  it("does not name another tenant's component that holds the route", async () => {
    const { gw, admin, make } = await routed();
    await gw.tenants.createTenant(admin, { name: 'globex' });
    await gw.apps.createApp(admin, 'globex', { name: 'site', description: '' });
    const refused = await error(make('web', { routes: [{ host: 'shop.example.com', path_prefix: '/v1', port: 8080 }] }, 'globex', 'globex.site'));
    expect(refused).toMatchObject({ status: 409, reason: 'route_owned' });
    expect(refused?.body.error.message).toBe('shop.example.com/v1 is already routed to a component of another tenant');
  });

  it('frees the claims of a deleted component', async () => {
    const { gw, admin, store, make } = await routed();
    const del = await gw.components.deleteComponent(admin, 'acme', 'acme.shop.web', undefined);
    await store.append(
      `operation/${del.event_id}`,
      [{ message: create(eventsV1.OperationFinishedSchema, { eventId: del.event_id, status: eventsV1.OperationStatus.SUCCESS }) }],
      'any',
    );
    expect(await status(make('next', { routes: [{ host: 'shop.example.com', path_prefix: '/v1', port: 8080 }] }))).toBe('ok');
  });

  it("stores a route's certificate with its key sealed for the component and host, after checking it fits the host and is valid now", async () => {
    const { make, clock, box, catalog } = await routed();
    const tls = { certificate_pem: fixture('shop.crt'), private_key_pem: fixture('shop.key') };
    clock.set(Date.parse('2030-01-01T00:00:00Z'));
    expect(await error(make('tls', { routes: [{ host: 'other.example.com', port: 8080, tls }] }))).toMatchObject({
      status: 400,
      field: 'routes[0].tls.certificate_pem',
    });
    expect(await error(make('tls', { routes: [{ host: 'shop.example.com', port: 8080, tls: { ...tls, private_key_pem: 'nope' } }] }))).toMatchObject({
      field: 'routes[0].tls.private_key_pem',
    });
    expect(await status(make('tls', { routes: [{ host: 'shop.example.com', port: 8080, https_redirect: true, tls }] }))).toBe('ok');
    const c = catalog().components.get('acme.shop.tls')!;
    const route = c.spec.routes[0];
    expect(route).toMatchObject({ httpsRedirect: true, tls: { certificatePem: tls.certificate_pem } });
    expect(box.open(route.tls!.sealedPrivateKey, 'acme.shop.tls/tls/shop.example.com')).toBe(tls.private_key_pem);
    expect(componentView(c).routes).toEqual([
      { host: 'shop.example.com', path_prefix: '/', port: 8080, https_redirect: true, tls: { certificate_pem: tls.certificate_pem } },
    ]);
    expect(JSON.stringify(componentView(c))).not.toContain('PRIVATE KEY');
    clock.set(Date.parse('2200-01-01T00:00:00Z'));
    expect(await error(make('late', { routes: [{ host: 'shop.example.com', path_prefix: '/late', port: 8080, tls }] }))).toMatchObject({
      field: 'routes[0].tls.certificate_pem',
    });
  });
});

describe('PATCH of a component (routes and TCP ports; a TLS route may keep its stored key)', () => {
  const web = { port: 8080, protocol: 'http', public: true };
  const db = { port: 5432, protocol: 'tcp', public: false };
  const fixture = (name: string) => readFileSync(join(__dirname, '__fixtures__', name), 'utf8');
  const error = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      if (err instanceof WharfError) return { ...httpErrorOf(err), reason: err.reason, field: err.field };
      throw err;
    }
    return undefined;
  };
  async function tlsComponent() {
    const t = await setup();
    t.clock.set(Date.parse('2030-01-01T00:00:00Z'));
    const tls = { certificate_pem: fixture('shop.crt'), private_key_pem: fixture('shop.key') };
    await t.gw.components.createComponent(
      t.admin,
      'acme',
      'acme.shop',
      createComponentSchema.parse({
        name: 'web',
        source: { image: 'nginx' },
        ports: [web, db],
        env: [{ name: 'PW', value: 'kept', secret: true }],
        routes: [{ host: 'shop.example.com', port: 8080, tls }],
        tcp_ports: [{ listen_port: 15432, port: 5432 }],
      }),
    );
    const patch = (body: object, ifMatch?: number) =>
      t.gw.components.patchComponent(t.admin, 'acme', 'acme.shop.web', componentPatchSchema.parse(body), ifMatch);
    const stored = () => t.catalog().components.get('acme.shop.web')!;
    const keyOf = (i: number) => t.box.open(stored().spec.routes[i].tls!.sealedPrivateKey, `acme.shop.web/tls/${stored().spec.routes[i].host}`);
    return { ...t, tls, patch, stored, keyOf };
  }

  it('keeps the stored key when a TLS route leaves it out (a new certificate is checked against it), sealed again, never shown', async () => {
    const { patch, stored, keyOf, tls } = await tlsComponent();
    const before = stored().spec;
    const view = await patch(
      { routes: [{ host: 'shop.example.com', port: 8080, https_redirect: true, tls: { certificate_pem: fixture('shop-chain.crt') } }] },
      1,
    );
    expect(view.routes).toEqual([
      { host: 'shop.example.com', path_prefix: '/', port: 8080, https_redirect: true, tls: { certificate_pem: fixture('shop-chain.crt') } },
    ]);
    expect(keyOf(0)).toBe(tls.private_key_pem);
    expect(JSON.stringify(view)).not.toContain('PRIVATE KEY');
    // Everything a PATCH does not name stays: source, env (sealed secret included), TCP ports.
    const after = stored().spec;
    expect(after.env).toEqual(before.env);
    expect(after.tcpPorts).toEqual(before.tcpPorts);
    expect(after.source).toEqual(before.source);
    expect(view.version).toBe(2);
  });

  it('refuses a certificate that does not fit the kept key, naming the certificate, and appends nothing', async () => {
    const { patch, store } = await tlsComponent();
    const events = store.events.length;
    const refused = await error(patch({ routes: [{ host: 'shop.example.com', port: 8080, tls: { certificate_pem: fixture('wild.crt') } }] }));
    expect(refused).toMatchObject({ status: 400, field: 'routes[0].tls.certificate_pem' });
    expect(refused?.body.error.message).toBe('routes[0].tls.certificate_pem: the private key stored for shop.example.com does not belong to this certificate');
    expect(await error(patch({ routes: [{ host: 'shop.example.com', port: 8080, tls: { certificate_pem: 'not pem' } }] }))).toMatchObject({
      field: 'routes[0].tls.certificate_pem',
    });
    expect(store.events.length).toBe(events);
  });

  it('needs a key for a host that has none stored, unless key_from_host names the host whose key to keep', async () => {
    const { patch, keyOf, tls } = await tlsComponent();
    const wildTls = { certificate_pem: fixture('wild.crt') };
    expect(await error(patch({ routes: [{ host: 'www.example.com', port: 8080, tls: wildTls }] }))).toMatchObject({
      status: 400,
      field: 'routes[0].tls.private_key_pem',
    });
    expect(await error(patch({ routes: [{ host: 'www.example.com', port: 8080, tls: { ...wildTls, key_from_host: 'nope.example.com' } }] }))).toMatchObject({
      field: 'routes[0].tls.key_from_host',
    });
    const both = componentPatchSchema.safeParse({
      routes: [{ host: 'shop.example.com', port: 8080, tls: { certificate_pem: tls.certificate_pem, private_key_pem: 'x', key_from_host: 'a.example.com' } }],
    });
    expect(both.error?.issues[0]).toMatchObject({
      path: ['routes', 0, 'tls', 'key_from_host'],
      message: 'give either private_key_pem or key_from_host, not both',
    });
    // A route moved to another host with its key: the key is sealed again for the new host.
    await patch({
      routes: [
        { host: 'shop.example.com', path_prefix: '/moved', port: 8080, tls: { certificate_pem: tls.certificate_pem, key_from_host: 'shop.example.com' } },
      ],
    });
    expect(keyOf(0)).toBe(tls.private_key_pem);
  });

  it('changes only what it names: TCP ports alone keep the routes and their keys; a stale If-Match is 409', async () => {
    const { patch, stored, keyOf, tls } = await tlsComponent();
    await patch({ tcp_ports: [{ listen_port: 15433, port: 5432 }] });
    expect(stored().spec.tcpPorts.map((t) => t.listenPort)).toEqual([15433]);
    expect(stored().spec.routes.map((r) => r.host)).toEqual(['shop.example.com']);
    expect(keyOf(0)).toBe(tls.private_key_pem);
    expect(await error(patch({ tcp_ports: [] }, 1))).toMatchObject({ status: 409, reason: 'version_mismatch' });
    await patch({ routes: [] });
    expect(stored().spec.routes).toEqual([]);
    expect(() => componentPatchSchema.parse({})).toThrow(/routes and\/or tcp_ports/);
    expect(() => componentPatchSchema.parse({ replicas: 3 })).toThrow();
  });

  it('checks ownership like a PUT: a host + path another component holds is 409 naming the route given', async () => {
    const { gw, admin, patch } = await tlsComponent();
    await gw.components.createComponent(
      admin,
      'acme',
      'acme.shop',
      createComponentSchema.parse({
        name: 'other',
        source: { image: 'nginx' },
        ports: [web],
        routes: [{ host: 'www.example.com', path_prefix: '/a', port: 8080 }],
      }),
    );
    const refused = await error(
      patch({
        routes: [
          { host: 'shop.example.com', port: 8080, tls: { certificate_pem: fixture('shop.crt') } },
          { host: 'www.example.com', path_prefix: '/a/', port: 8080 },
        ],
      }),
    );
    expect(refused).toMatchObject({ status: 409, reason: 'route_owned', field: 'routes[1]' });
    expect(refused?.body.error.message).toBe('www.example.com/a is already routed to component acme/shop/other (acme.shop.other)');
  });
});
