import { mqV1 } from '@wharf/contracts';
import { createEtcdClient } from '@wharf/etcd';
import { createClient } from '@wharf/grpc';
import { decodeTask } from '@wharf/tasks';
import { rawHttp, startEtcd, startMq, type EtcdInstance, type RunningMq } from '@wharf/testing';
import { createHmac } from 'node:crypto';
import { client, startApi, type RunningApi } from '../test/api-harness';

const REPO = 'https://git.example.com/acme/api.git';
const SHA = 'ab12'.repeat(10);

/** Push-to-deploy through the real api-gateway process, real etcd and real mq, with requests written byte by byte. */
describe('webhooks over real HTTP, real etcd and real mq', () => {
  let etcd: EtcdInstance;
  let mq: RunningMq;
  let api: RunningApi;
  let mqClient: ReturnType<typeof createClient<typeof mqV1.MqService>>;
  const tokens: Record<string, string> = {};
  const as = (who: string) => client(api.url, tokens[who]);

  /** A POST exactly as written (the HMAC is over these bytes), over its own connection. */
  const deliver = async (path: string, body: string, headers: Record<string, string>) => {
    const all: Record<string, string> = {
      host: new URL(api.url).host,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
      ...headers,
    };
    const head = Object.entries(all)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    const res = await rawHttp(Number(new URL(api.url).port), `POST ${path} HTTP/1.1\r\n${head}\r\n${body}`);
    const at = res.text.indexOf('\r\n\r\n');
    const text = res.text.slice(at + 4);
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read whatever the API answered
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: Number(res.text.slice(9, 12)), body: json, reset: res.reset };
  };
  const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const push = (over: Record<string, unknown> = {}) => JSON.stringify({ ref: 'refs/heads/main', after: SHA, repository: { clone_url: REPO }, ...over });
  const github = (secret: string, body: string, delivery?: string, event = 'push') => ({
    'x-github-event': event,
    'x-hub-signature-256': sign(secret, body),
    ...(delivery ? { 'x-github-delivery': delivery } : {}),
  });
  /** The build tasks mq holds now (leased and acked, so each is seen once). */
  const buildTasks = async (waitMs: number) => {
    const { deliveries } = await mqClient.dequeue({ topic: 'build', waitMs, leaseMs: 60000, maxTasks: 10 });
    for (const d of deliveries) await mqClient.ack({ topic: 'build', taskId: d.task!.taskId, leaseId: d.leaseId });
    return deliveries.map((d) => ({ taskId: d.task!.taskId, task: decodeTask(d.task!.payload, 'build') }));
  };
  const component = async (name: string, source: object = { git: { url: REPO, branch: 'main' } }) => {
    const res = await as('dev')('POST', '/api/v1/tenants/acme/apps/acme.shop/components', { name, source });
    expect(res.status).toBe(201);
    return `/api/v1/tenants/acme/components/acme.shop.${name}`;
  };

  beforeAll(async () => {
    etcd = await startEtcd();
    mq = await startMq(etcd);
    api = await startApi(etcd, mq.grpc);
    mqClient = createClient(mqV1.MqService, mq.grpc, { security: etcd.pki.security('builder') });
    const admin = client(api.url, api.adminToken);
    for (const t of ['acme', 'globex']) expect((await admin('POST', '/api/v1/tenants', { name: t })).status).toBe(201);
    for (const [user, tenant, role] of [
      ['dev', 'acme', 'developer'],
      ['vic', 'acme', 'viewer'],
      ['gus', 'globex', 'owner'],
    ]) {
      await admin('POST', '/api/v1/users', { name: user });
      await admin('POST', `/api/v1/tenants/${tenant}/members`, { user_id: user, role });
      tokens[user] = (await admin('POST', `/api/v1/users/${user}/tokens`, { name: 'test' })).body.token;
    }
    expect((await as('dev')('POST', '/api/v1/tenants/acme/apps', { name: 'shop' })).status).toBe(201);
  });
  afterAll(async () => {
    mqClient?.close();
    await api?.stop();
    await mq?.stop();
    await etcd?.destroy();
  });

  it("gives a developer the webhook's URL and its secret once; a viewer and another tenant get nothing", async () => {
    const path = await component('site');
    expect((await as('vic')('POST', `${path}/webhook`)).status).toBe(403);
    expect((await as('gus')('POST', `${path}/webhook`)).status).toBe(404);
    const made = await as('dev')('POST', `${path}/webhook`);
    expect(made.status).toBe(201);
    expect(made.headers.get('cache-control')).toBe('no-store');
    expect(made.body).toEqual({
      hook_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      path: `/api/v1/hooks/${made.body.hook_id}`,
      url: `${api.url}/api/v1/hooks/${made.body.hook_id}`,
      branch: 'main',
      secret: expect.stringMatching(/^[0-9a-f]{64}$/),
      created: true,
      created_at_ms: expect.any(Number),
      rotated_at_ms: expect.any(Number),
    });
    const shown = await as('dev')('GET', `${path}/webhook`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ hook_id: made.body.hook_id, url: made.body.url });
    expect(JSON.stringify(shown.body)).not.toContain(made.body.secret);
    expect((await as('vic')('GET', `${path}/webhook`)).status).toBe(403);
    // An image component has nothing a push could build.
    const image = await component('static', { image: 'nginx' });
    expect(await as('dev')('POST', `${image}/webhook`)).toMatchObject({ status: 409, body: { error: { message: expect.stringContaining('git source') } } });
    // Sealed at rest: the secret is nowhere in etcd, the hook id is (in the component's stream).
    const raw = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    const dump = Buffer.concat(Object.values(await raw.getAll().prefix('/wharf/').buffers())).toString('latin1');
    raw.close();
    expect(dump).toContain(made.body.hook_id);
    expect(dump).not.toContain(made.body.secret);
  });

  it("builds and deploys a signed push of the component's branch: one operation, its event_id answered and on mq with the commit", async () => {
    const path = await component('api');
    const w = (await as('dev')('POST', `${path}/webhook`)).body;
    const body = push();
    const res = await deliver(w.path, body, github(w.secret, body, 'delivery-1'));
    expect(res).toMatchObject({ status: 202, body: { action: 'build', event_id: expect.stringMatching(/^evt-/), queued: false, commit: SHA, branch: 'main' } });
    const eventId = res.body.event_id;
    const op = await as('dev')('GET', `/api/v1/tenants/acme/operations/${eventId}`);
    expect(op.body).toMatchObject({ event_id: eventId, kind: 'build', status: 'pending', target: 'component/acme.shop.api' });
    const tasks = await buildTasks(2000);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      taskId: eventId,
      task: {
        kind: {
          case: 'build',
          value: {
            eventId,
            tenantId: 'acme',
            componentId: 'acme.shop.api',
            deployAfter: true,
            options: { ref: SHA },
            source: { kind: { case: 'git', value: { url: REPO, branch: 'main' } } },
          },
        },
      },
    });
    // The same delivery again (GitHub's "Redeliver", or a replay): its operation, nothing new.
    expect(await deliver(w.path, body, github(w.secret, body, 'delivery-1'))).toMatchObject({ status: 200, body: { action: 'duplicate', event_id: eventId } });
    expect(await buildTasks(500)).toEqual([]);
    const ops = await as('dev')('GET', '/api/v1/tenants/acme/operations?kind=build');
    expect(ops.body.items.filter((o: { target: string }) => o.target === 'component/acme.shop.api')).toHaveLength(1);
  });

  it('answers a bad or missing signature 401 and starts nothing; an unknown hook 404', async () => {
    const path = await component('guarded');
    const w = (await as('dev')('POST', `${path}/webhook`)).body;
    const body = push();
    const wrong = await deliver(w.path, body, github('not-the-secret', body, 'bad-1'));
    expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated', message: 'bad or missing X-Hub-Signature-256' } } });
    expect((await deliver(w.path, body, { 'x-github-event': 'push' })).status).toBe(401);
    expect((await deliver(w.path, body, {})).status).toBe(401);
    expect((await deliver(w.path, body, { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'guess' })).status).toBe(401);
    // Signed, then changed on the way: the HMAC is over the bytes received.
    expect((await deliver(w.path, push({ after: 'f'.repeat(40) }), github(w.secret, body))).status).toBe(401);
    // A bearer token is no signature.
    expect((await deliver(w.path, body, { authorization: `Bearer ${api.adminToken}`, 'x-github-event': 'push' })).status).toBe(401);
    expect(await buildTasks(500)).toEqual([]);
    expect((await as('dev')('GET', `${path}`)).body.active_operation).toBeNull();
    const unknown = await deliver(`/api/v1/hooks/${'0'.repeat(32)}`, body, github(w.secret, body));
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'not_found', message: 'no such webhook' } } });
    expect((await deliver('/api/v1/hooks/acme.shop.guarded', body, github(w.secret, body))).status).toBe(404);
  });

  it('ignores a push of another branch naming it, answers a ping 200, and names what is wrong with a signed body it cannot read (400) or a form body (415)', async () => {
    const path = await component('branchy');
    const w = (await as('dev')('POST', `${path}/webhook`)).body;
    const other = push({ ref: 'refs/heads/feature-x' });
    expect(await deliver(w.path, other, github(w.secret, other))).toMatchObject({
      status: 202,
      body: { action: 'ignored', reason: 'a push to branch feature-x, the component follows main' },
    });
    const ping = JSON.stringify({ zen: 'Approachable is better than simple.', hook_id: 1 });
    expect(await deliver(w.path, ping, github(w.secret, ping, undefined, 'ping'))).toMatchObject({ status: 200, body: { action: 'ignored' } });
    const broken = '{"ref": "refs/heads/main", ';
    expect(await deliver(w.path, broken, github(w.secret, broken))).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid', field: 'body', message: expect.stringContaining('not JSON') } },
    });
    // The form-encoded kind GitHub can send: refused by content type before anything is read.
    const form = `payload=${encodeURIComponent(push())}`;
    expect(await deliver(w.path, form, { ...github(w.secret, form), 'content-type': 'application/x-www-form-urlencoded' })).toMatchObject({
      status: 415,
      body: { error: { message: expect.stringContaining('send application/json') } },
    });
    expect(await buildTasks(500)).toEqual([]);
  });

  it('bounds the body: over 1 MiB is 413 before anything is verified', async () => {
    const path = await component('big');
    const w = (await as('dev')('POST', `${path}/webhook`)).body;
    const body = push({ padding: 'x'.repeat(1_100_000) });
    expect(await deliver(w.path, body, github(w.secret, body))).toMatchObject({ status: 413, body: { error: { code: 'too_large' } } });
    expect(await buildTasks(300)).toEqual([]);
  });

  it('accepts a GitLab push with its token; after rotation the old secret is refused, after deletion the URL is gone', async () => {
    const path = await component('gl');
    const w = (await as('dev')('POST', `${path}/webhook`)).body;
    const body = JSON.stringify({ object_kind: 'push', ref: 'refs/heads/main', after: SHA, checkout_sha: SHA, project: { git_http_url: REPO } });
    const gitlab = (token: string, key: string) => ({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': token, 'idempotency-key': key });
    const res = await deliver(w.path, body, gitlab(w.secret, 'gl-1'));
    expect(res).toMatchObject({ status: 202, body: { action: 'build', commit: SHA } });
    expect((await buildTasks(2000)).map((t) => t.taskId)).toEqual([res.body.event_id]);
    const rotated = await as('dev')('POST', `${path}/webhook`);
    expect(rotated).toMatchObject({ status: 200, body: { created: false, hook_id: w.hook_id } });
    expect((await deliver(w.path, body, gitlab(w.secret, 'gl-2'))).status).toBe(401);
    // The new secret works (queued behind the build above, which no builder runs here).
    expect(await deliver(w.path, body, gitlab(rotated.body.secret, 'gl-3'))).toMatchObject({ status: 202, body: { action: 'build', queued: true } });
    expect((await as('vic')('DELETE', `${path}/webhook`)).status).toBe(403);
    expect((await as('dev')('DELETE', `${path}/webhook`)).status).toBe(204);
    expect((await as('dev')('GET', `${path}/webhook`)).status).toBe(404);
    expect((await deliver(w.path, body, gitlab(rotated.body.secret, 'gl-4'))).status).toBe(404);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await client(api.url)('GET', '/docs/openapi.json')).body;
    expect(Object.keys(doc.paths['/api/v1/tenants/{tenant}/components/{component}/webhook']).sort()).toEqual(['delete', 'get', 'post']);
    const hook = doc.paths['/api/v1/hooks/{hook}'].post;
    expect(hook.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['hook', 'X-Hub-Signature-256', 'X-Gitlab-Token']));
    expect(hook.security ?? []).toEqual([]);
  });
});
