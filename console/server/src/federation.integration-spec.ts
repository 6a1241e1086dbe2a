import { freePort, startApiGateway, startConsole, startEtcd, type EtcdInstance, type RunningApiGateway, type RunningConsole } from '@wharf/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bearer, BrowserLike, dcUserToken, seedDataCenter } from '../test/console-client';

/**
 * The console server over real HTTP against two real data centers (two api-gateways on their
 * own etcd prefixes) and its own state on a third prefix of the same etcd.
 */
describe('console server: users, sessions, CSRF, data centers and the federation across two real data centers', () => {
  let etcd: EtcdInstance;
  let east: RunningApiGateway;
  let west: RunningApiGateway;
  let consoleServer: RunningConsole;
  let alice: BrowserLike;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    etcd = await startEtcd();
    // No mq: operations are accepted and their tasks retried in the background.
    const noMq = `127.0.0.1:${await freePort()}`;
    [east, west] = await Promise.all([
      startApiGateway(etcd, noMq, { WHARF_ETCD_PREFIX: '/dc-east', WHARF_DC_NAME: 'east' }),
      startApiGateway(etcd, noMq, { WHARF_ETCD_PREFIX: '/dc-west', WHARF_DC_NAME: 'west' }),
    ]);
    await seedDataCenter(east.url, east.adminToken!, { acme: ['shop', 'blog'], globex: ['secret'] });
    await seedDataCenter(west.url, west.adminToken!, { acme: ['shop'] });
    tokens.eastAdmin = east.adminToken!;
    tokens.westAdmin = west.adminToken!;
    tokens.eastBob = await dcUserToken(east.url, east.adminToken!, 'bob', { acme: 'viewer' });
    consoleServer = await startConsole(etcd, { WHARF_CONSOLE_ETCD_PREFIX: '/console-test', WHARF_CONSOLE_LOGIN_LIMIT: '8' });
    alice = new BrowserLike(consoleServer.url);
  });
  afterAll(async () => {
    await consoleServer?.stop();
    for (const dc of [east, west]) {
      if (dc) {
        process.kill(dc.process.pid, 'SIGCONT');
        await dc.stop();
      }
    }
    await etcd?.destroy();
  });

  it('made a first admin with a printed password, and refuses everything without a session', async () => {
    expect(consoleServer.firstUser).toEqual({ name: 'admin', password: expect.stringMatching(/^[0-9a-f]{24}$/) });
    for (const path of ['/api/v1/session', '/api/v1/apps', '/api/v1/data-centers', '/api/v1/users']) {
      const res = await bearer(consoleServer.url)('GET', path);
      expect({ path, status: res.status, code: res.body.error.code }).toEqual({ path, status: 401, code: 'unauthenticated' });
    }
    const doc = await bearer(consoleServer.url)('GET', '/docs/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/v1/session', '/api/v1/apps', '/api/v1/components', '/api/v1/data-centers']));
  });

  it('signs in with an httpOnly SameSite=Strict cookie; a wrong password or unknown user gets the same 401', async () => {
    const admin = new BrowserLike(consoleServer.url);
    expect((await admin.signIn('admin', 'wrong password!')).body.error).toEqual({ code: 'unauthenticated', message: 'wrong user name or password' });
    expect((await admin.signIn('nobody', 'wrong password!')).body.error).toEqual({ code: 'unauthenticated', message: 'wrong user name or password' });
    expect((await admin.signIn('', '')).body.error).toMatchObject({ code: 'invalid', field: 'name' });
    const res = await admin.signIn('admin', consoleServer.firstUser!.password);
    expect(res.status).toBe(201);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/wharf_session=wcs_[0-9a-f]{64}/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(res.body).toMatchObject({ user: { name: 'admin', admin: true }, csrf_token: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // Users: admins make them; bad input names the field.
    expect((await admin.request('POST', '/api/v1/users', { name: 'Alice!', password: 'x' })).body.error).toMatchObject({ code: 'invalid', field: 'name' });
    expect((await admin.request('POST', '/api/v1/users', { name: 'alice', password: 'short' })).body.error).toMatchObject({
      code: 'invalid',
      field: 'password',
    });
    expect((await admin.request('POST', '/api/v1/users', { name: 'alice', password: 'a long enough password', admin: true })).status).toBe(201);
    expect((await admin.request('POST', '/api/v1/users', { name: 'alice', password: 'a long enough password' })).body.error).toMatchObject({
      code: 'already_exists',
      field: 'name',
    });
    expect((await admin.request('POST', '/api/v1/users', { name: 'bob', password: 'bobs long password' })).status).toBe(201);
    expect((await alice.signIn('alice', 'a long enough password')).status).toBe(201);
  });

  it('refuses a change without the CSRF token, with a wrong one, or from another origin; a bearer session needs none', async () => {
    const body = { name: 'carol', password: 'carols long password' };
    expect((await alice.request('POST', '/api/v1/users', body, { csrf: false })).body.error).toMatchObject({ code: 'csrf' });
    expect((await alice.request('POST', '/api/v1/users', body, { csrf: false, headers: { 'x-csrf-token': 'f'.repeat(64) } })).body.error).toMatchObject({
      code: 'csrf',
    });
    expect((await alice.request('POST', '/api/v1/users', body, { headers: { origin: 'http://evil.example' } })).body.error).toMatchObject({ code: 'csrf' });
    expect((await bearer(consoleServer.url)('GET', '/api/v1/users')).status).toBe(401);
    // A script: the session id once, as a bearer token; no cookie, no CSRF token.
    const cli = await fetch(`${consoleServer.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-wharf-client': 'cli' },
      body: JSON.stringify({ name: 'alice', password: 'a long enough password' }),
    });
    expect(cli.headers.get('set-cookie')).toBeNull();
    const { token } = (await cli.json()) as { token: string };
    expect((await bearer(consoleServer.url, token)('POST', '/api/v1/users', body)).status).toBe(201);
  });

  it('adds data centers only with a URL that answers like a Wharf API and a token it accepts; the token never comes back', async () => {
    const bad = async (input: Record<string, unknown>) => (await alice.request('POST', '/api/v1/data-centers', input)).body.error;
    expect(await bad({ name: 'east', api_url: 'ftp://x', token: tokens.eastAdmin })).toMatchObject({ code: 'invalid', field: 'api_url' });
    expect(await bad({ name: 'east', api_url: east.url, token: 'nope' })).toMatchObject({ code: 'invalid', field: 'token' });
    expect(await bad({ name: 'east', api_url: east.url, token: tokens.westAdmin })).toMatchObject({
      code: 'invalid',
      field: 'token',
      message: expect.stringMatching(/refused/),
    });
    expect(await bad({ name: 'east', api_url: `http://127.0.0.1:${await freePort()}`, token: tokens.eastAdmin })).toMatchObject({
      code: 'invalid',
      field: 'api_url',
      message: expect.stringMatching(/does not answer/),
    });
    const added = await alice.request('POST', '/api/v1/data-centers', { name: 'east', api_url: `${east.url}/api/v1/`, token: tokens.eastAdmin });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ name: 'east', api_url: east.url, linked: true, dc_user: 'admin', health: { status: 'ok' } });
    expect((await alice.request('POST', '/api/v1/data-centers', { name: 'west', api_url: west.url, token: tokens.westAdmin })).status).toBe(201);
    expect(await bad({ name: 'east', api_url: west.url, token: tokens.westAdmin })).toMatchObject({ code: 'already_exists', field: 'name' });
    const list = await alice.request('GET', '/api/v1/data-centers');
    expect(list.body.items.map((d: { name: string }) => d.name)).toEqual(['east', 'west']);
    const everything = JSON.stringify([list.body, added.body]);
    for (const t of [tokens.eastAdmin, tokens.westAdmin]) expect(everything).not.toContain(t.split('_')[2]);
    // Stored sealed: the console's etcd prefix never holds the token in clear.
    const { createEtcdClient } = await import('@wharf/etcd');
    const client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    try {
      const all = await client.getAll().prefix('/console-test').buffers();
      const dump = Buffer.concat(Object.values(all)).toString('latin1');
      expect(dump).toContain('console-dc/');
      expect(dump).not.toContain(tokens.eastAdmin.split('_')[2]);
    } finally {
      client.close();
    }
  });

  it('lists teams and apps across both data centers, each tagged with its data center', async () => {
    const teams = await alice.request('GET', '/api/v1/teams');
    expect(teams.body.data_centers.map((d: { name: string; status: string }) => [d.name, d.status])).toEqual([
      ['east', 'ok'],
      ['west', 'ok'],
    ]);
    const apps = await alice.request('GET', '/api/v1/apps');
    expect(apps.body.items.map((a: { dc_name: string; id: string }) => `${a.dc_name}:${a.id}`).sort()).toEqual([
      'east:acme.blog',
      'east:acme.shop',
      'east:globex.secret',
      'west:acme.shop',
    ]);
    expect((await alice.request('GET', '/api/v1/apps?tenant=acme&dc=west')).body.items).toHaveLength(1);
    expect((await alice.request('GET', '/api/v1/apps?bogus=1')).body.error).toMatchObject({ code: 'invalid', field: 'bogus' });
  });

  it("shows a user only what each data center's RBAC gives that user's own token, and nothing where the user has none", async () => {
    const bob = new BrowserLike(consoleServer.url);
    await bob.signIn('bob', 'bobs long password');
    const before = await bob.request('GET', '/api/v1/apps');
    expect(before.body.items).toEqual([]);
    expect(before.body.data_centers.map((d: { status: string }) => d.status)).toEqual(['not_linked', 'not_linked']);
    expect((await bob.request('PUT', '/api/v1/data-centers/east/credential', { token: 'x' })).body.error).toMatchObject({ field: 'token' });
    expect((await bob.request('PUT', '/api/v1/data-centers/east/credential', { token: tokens.eastBob })).body).toMatchObject({ linked: true, dc_user: 'bob' });
    const after = await bob.request('GET', '/api/v1/apps');
    expect(after.body.items.map((a: { id: string }) => a.id).sort()).toEqual(['acme.blog', 'acme.shop']);
    // A viewer in east: the data center refuses the change, the console passes its answer on.
    const create = await bob.request('POST', '/api/v1/dcs/east/api/v1/tenants/acme/apps', { name: 'nope' });
    expect(create.status).toBe(403);
    // Only admins add data centers.
    expect((await bob.request('POST', '/api/v1/data-centers', { name: 'x', api_url: east.url, token: tokens.eastBob })).status).toBe(403);
  });

  it('creates a component in both data centers at once (app made where missing), with an operation per data center; bad input creates nothing', async () => {
    const bad = await alice.request('POST', '/api/v1/components', {
      targets: [
        { dc: 'east', tenant: 'acme' },
        { dc: 'west', tenant: 'acme' },
      ],
      app: 'shop',
      name: 'API',
      source: { image: 'nginx' },
    });
    expect(bad.body.error).toMatchObject({ code: 'invalid', field: 'name' });
    const noImage = await alice.request('POST', '/api/v1/components', {
      targets: [{ dc: 'east', tenant: 'acme' }],
      app: 'shop',
      name: 'api',
      source: { image: 'Bad Image' },
    });
    expect(noImage.body.error).toMatchObject({ code: 'invalid', field: 'source.image' });
    expect((await alice.request('GET', '/api/v1/components')).body.items).toEqual([]);

    const res = await alice.request('POST', '/api/v1/components', {
      targets: [
        { dc: 'east', tenant: 'acme' },
        { dc: 'west', tenant: 'acme' },
      ],
      app: 'store',
      name: 'api',
      source: { image: 'nginx:1.27' },
      ports: [{ port: 80, public: true }],
    });
    expect(res.status).toBe(201);
    expect(res.body.results).toEqual([
      expect.objectContaining({ dc_name: 'east', status: 'created', component_id: 'acme.store.api', event_id: expect.stringMatching(/^evt-/), error: null }),
      expect.objectContaining({ dc_name: 'west', status: 'created', component_id: 'acme.store.api', event_id: expect.stringMatching(/^evt-/), error: null }),
    ]);
    const comps = await alice.request('GET', '/api/v1/components?app=store');
    expect(comps.body.items.map((c: { dc_name: string; id: string; status: string }) => [c.dc_name, c.id, c.status])).toEqual([
      ['east', 'acme.store.api', 'operation running'],
      ['west', 'acme.store.api', 'operation running'],
    ]);
    // The same again: each data center says why not, per data center.
    const again = await alice.request('POST', '/api/v1/components', {
      targets: [{ dc: 'east', tenant: 'acme' }],
      app: 'store',
      name: 'api',
      source: { image: 'nginx' },
    });
    expect(again.body.results[0]).toMatchObject({ status: 'failed', error: { code: expect.any(String) } });
    // One operation with its steps, through the pass-through.
    const op = await alice.request('GET', `/api/v1/dcs/west/api/v1/tenants/acme/operations/${res.body.results[1].event_id}`);
    expect(op.body).toMatchObject({ kind: 'build', status: 'pending' });
  });

  it("changes a component's routes and certificates through the console: one write each, refusals on the form's fields, no key ever returned", async () => {
    const fixture = (name: string) => readFileSync(join(__dirname, 'domain', '__fixtures__', name), 'utf8');
    const base = '/api/v1/dcs/east/tenants/acme/components/acme.store.api/routes';
    const route = `${base}/${encodeURIComponent('shop.example.com/')}`;
    const tls = { certificate_pem: fixture('shop.crt'), private_key_pem: fixture('shop.key') };
    const stored = async () => (await bearer(east.url, tokens.eastAdmin)('GET', '/api/v1/tenants/acme/components/acme.store.api')).body;
    const doc = await bearer(consoleServer.url)('GET', '/docs/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/dcs/{dc}/tenants/{tenant}/components/{component}/routes',
        '/api/v1/dcs/{dc}/tenants/{tenant}/components/{component}/routes/{route}/certificate',
      ]),
    );
    expect((await alice.request('POST', base, { kind: 'http', host: 'shop.example.com', port: 80, tls }, { csrf: false })).status).toBe(403);
    const made = await alice.request('POST', base, { kind: 'http', host: 'shop.example.com', port: 80, tls });
    expect(made.status).toBe(201);
    expect(made.body.routes).toEqual([
      expect.objectContaining({ id: 'shop.example.com/', kind: 'http', port: 80, tls: expect.objectContaining({ subject: 'CN=shop.example.com' }) }),
    ]);
    expect(JSON.stringify(made.body)).not.toContain('PRIVATE KEY');
    // A key that is not the certificate's: the data center's refusal, on the form's key field; nothing changed.
    const version = (await stored()).version;
    const mismatch = await alice.request('PUT', route, {
      kind: 'http',
      host: 'shop.example.com',
      port: 80,
      tls: { ...tls, private_key_pem: fixture('other.key') },
    });
    expect({ status: mismatch.status, field: mismatch.body.error.field, message: mismatch.body.error.message }).toEqual({
      status: 400,
      field: 'tls.private_key_pem',
      message: 'the private key does not belong to the certificate',
    });
    expect((await stored()).version).toBe(version);
    // Renewed keeping the stored key (the data center checks the chain against it), then the route changed keeping it too.
    expect((await alice.request('PUT', `${route}/certificate`, { certificate_pem: fixture('shop-chain.crt'), keep_key: true })).status).toBe(200);
    const changed = await alice.request('PUT', route, {
      kind: 'http',
      host: 'shop.example.com',
      path_prefix: '/',
      port: 80,
      https_redirect: true,
      tls: { certificate_pem: fixture('shop-chain.crt'), keep_key: true },
    });
    expect(changed.status).toBe(200);
    expect((await stored()).routes).toEqual([
      { host: 'shop.example.com', path_prefix: '/', port: 80, https_redirect: true, tls: { certificate_pem: fixture('shop-chain.crt') } },
    ]);
    // Bad input: each on its field, before or from the data center.
    expect((await alice.request('POST', base, { kind: 'http', host: 'Bad Host', port: 80 })).body.error).toMatchObject({ code: 'invalid', field: 'host' });
    expect((await alice.request('POST', base, { kind: 'tcp', listen_port: 15000, port: 80 })).body.error).toMatchObject({ code: 'invalid', field: 'port' });
    expect((await alice.request('PUT', `${base}/nope.example.com%2F`, { kind: 'http', host: 'a.example.com', port: 80 })).body.error).toMatchObject({
      code: 'not_found',
      field: 'route',
    });
    expect((await alice.request('DELETE', `${base}/not%20a%20route`)).body.error).toMatchObject({ code: 'invalid', field: 'route' });
    const gone = await alice.request('DELETE', route);
    expect({ status: gone.status, routes: gone.body.routes }).toEqual({ status: 200, routes: [] });
    expect((await stored()).routes).toEqual([]);
  });

  it('shows a data center that does not answer as unreachable within 2 s while the other keeps answering; fast while backing off; back when it answers', async () => {
    process.kill(west.process.pid, 'SIGSTOP'); // hung, not gone: only the timeout can tell
    try {
      const apps = await alice.request('GET', '/api/v1/apps');
      expect(apps.body.data_centers).toEqual([
        expect.objectContaining({ name: 'east', status: 'ok' }),
        // The bound: one call waits at most WHARF_CONSOLE_DC_TIMEOUT_MS (1500 ms by default; the bench measures it).
        expect.objectContaining({ name: 'west', status: 'unreachable', message: 'west is unreachable: no answer within 1500 ms' }),
      ]);
      expect(apps.body.items.every((a: { dc_name: string }) => a.dc_name === 'east')).toBe(true);
      expect(apps.body.items.length).toBe(4);
      // Backing off: the next call does not wait for it again, it fails at once.
      const again = await alice.request('GET', '/api/v1/apps');
      expect(again.body.data_centers[1]).toMatchObject({
        status: 'unreachable',
        message: expect.stringMatching(/^west is unreachable \(no answer within 1500 ms\); next try in \d+ ms$/),
      });
      const dcs = await alice.request('GET', '/api/v1/data-centers');
      expect(dcs.body.items[1].health).toMatchObject({ status: 'unreachable', retryAtMs: expect.any(Number) });
    } finally {
      process.kill(west.process.pid, 'SIGCONT');
    }
    const deadline = Date.now() + 20_000;
    let status = '';
    while (Date.now() < deadline && status !== 'ok') {
      status = (await alice.request('GET', '/api/v1/apps')).body.data_centers[1].status;
      if (status !== 'ok') await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe('ok');
  });

  it('rate-limits sign-in per address and user, and ends a session at sign-out', async () => {
    const mallory = new BrowserLike(consoleServer.url);
    const codes: number[] = [];
    for (let i = 0; i < 10; i++) codes.push((await mallory.signIn('carol', 'not the password')).status);
    expect(codes.slice(0, 8)).toEqual(Array(8).fill(401));
    expect(codes.slice(8)).toEqual([429, 429]);
    // Even the right password waits now; another user from the same address is not held up.
    expect((await mallory.signIn('carol', 'carols long password')).body.error).toMatchObject({ code: 'rate_limited' });
    expect((await new BrowserLike(consoleServer.url).signIn('alice', 'a long enough password')).status).toBe(201);

    const out = await alice.request('DELETE', '/api/v1/session');
    expect(out.status).toBe(204);
    expect((await alice.request('GET', '/api/v1/apps')).status).toBe(401);
  });
});
