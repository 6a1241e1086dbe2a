import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { WharfError } from '@wharf/errors';
import { Projection } from '@wharf/event-store';
import { createLogger } from '@wharf/logging';
import { httpErrorOf } from '@wharf/service-kit';
import { decodeTask } from '@wharf/tasks';
import { ManualClock, SequentialIds } from '@wharf/testing';
import { createHmac } from 'node:crypto';
import { MemoryEventStore } from '../../test/memory-event-store';
import { SecretBox } from '../adapters/aes-secret-box.adapter';
import { AppsService } from './apps.service';
import { Catalog, catalogProjection } from './catalog';
import { ComponentsService } from './components.service';
import { GatewayContext } from './gateway-context';
import { IdentityService } from './identity.service';
import { OperationsService } from './operations.service';
import { createComponentSchema, operationSchema } from './schemas';
import { TaskDispatcher, type TaskQueue } from './task-dispatcher';
import { TenantsService } from './tenants.service';
import { deliveryEventId, webhookSecretContext, WebhooksService } from './webhooks.service';

const REPO = 'https://git.example.com/acme/api.git';
const SHA = 'c0ffee'.padEnd(40, '0');

async function setup() {
  const store = new MemoryEventStore();
  const projection = new Projection(store, catalogProjection);
  await projection.start();
  const sent: { topic: string; eventId: string; payload: ReturnType<typeof decodeTask> }[] = [];
  const queue: TaskQueue = { enqueue: async (topic, eventId, payload) => void sent.push({ topic, eventId, payload: decodeTask(payload, topic) }) };
  const tasks = new TaskDispatcher(queue, createLogger('test', 'silent'));
  projection.state.onActivated = (op) => void tasks.dispatch(op);
  const box = new SecretBox(Buffer.alloc(32, 7));
  const ctx = new GatewayContext(store, projection, new ManualClock(), new SequentialIds());
  const operations = new OperationsService(ctx, tasks, null);
  const identity = new IdentityService(ctx);
  const components = new ComponentsService(ctx, box, operations, { domain: 'dc1.example.com' });
  const webhooks = new WebhooksService(ctx, box, operations);
  const admin = identity.authenticate(`Bearer ${(await identity.bootstrapAdmin())!}`);
  await new TenantsService(ctx).createTenant(admin, { name: 'acme' });
  await new AppsService(ctx).createApp(admin, 'acme', { name: 'shop', description: '' });
  const make = (name: string, source: object) => components.createComponent(admin, 'acme', 'acme.shop', createComponentSchema.parse({ name, source }));
  await make('api', { git: { url: REPO, branch: 'main' } });
  await make('img', { image: 'nginx' });
  return { store, projection, box, webhooks, operations, admin, sent, make, catalog: () => projection.state };
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

const push = (over: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ ref: 'refs/heads/main', after: SHA, repository: { clone_url: REPO }, ...over }));
const github = (secret: string, body: Buffer, extra: Record<string, string> = {}) => ({
  'x-github-event': 'push',
  'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
  'content-type': 'application/json',
  ...extra,
});

describe('webhooks', () => {
  it('creates a webhook with an opaque id and a secret stored sealed; rotation keeps the URL and changes the secret', async () => {
    const { webhooks, admin, box, store, catalog } = await setup();
    const w = await webhooks.setWebhook(admin, 'acme', 'acme.shop.api');
    expect(w).toMatchObject({ created: true, path: `/api/v1/hooks/${w.hook_id}`, branch: 'main', secret: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(w.hook_id).toMatch(/^[0-9a-f]{32}$/);
    expect(w.hook_id).not.toContain('acme');
    const stored = catalog().components.get('acme.shop.api')!.webhook!;
    expect(box.open(Buffer.from(stored.sealedSecret, 'base64'), webhookSecretContext('acme.shop.api', w.hook_id))).toBe(w.secret);
    // Every byte the event store holds, with bytes fields as they are: the secret is not among them.
    const storedBytes = JSON.stringify(store.events, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : typeof v === 'bigint' ? String(v) : v,
    );
    expect(storedBytes).toContain(w.hook_id);
    expect(storedBytes).not.toContain(w.secret);
    expect(store.events.at(-1)).toMatchObject({
      stream: 'component/acme.shop.api',
      actor: `user:${admin.user.id}`,
      message: { $typeName: 'wharf.events.v1.WebhookSet' },
    });
    const shown = webhooks.getWebhook(admin, 'acme', 'acme.shop.api');
    expect(shown).toEqual({ hook_id: w.hook_id, path: w.path, branch: 'main', created_at_ms: expect.any(Number), rotated_at_ms: expect.any(Number) });
    const rotated = await webhooks.setWebhook(admin, 'acme', 'acme.shop.api');
    expect(rotated).toMatchObject({ created: false, hook_id: w.hook_id });
    expect(rotated.secret).not.toBe(w.secret);
  });

  it('refuses a webhook for an image component, one that does not exist, and a stale If-Match', async () => {
    const { webhooks, admin } = await setup();
    expect(await status(webhooks.setWebhook(admin, 'acme', 'acme.shop.img'))).toBe(409);
    expect(await status(webhooks.setWebhook(admin, 'acme', 'acme.shop.nope'))).toBe(404);
    expect(await status(webhooks.setWebhook(admin, 'acme', 'acme.shop.api', 99))).toBe(409);
    expect(await status(() => webhooks.getWebhook(admin, 'acme', 'acme.shop.api'))).toBe(404);
    expect(await status(webhooks.removeWebhook(admin, 'acme', 'acme.shop.api'))).toBe(404);
  });

  it("starts a build of the pushed commit that deploys, as the operations route does, for a push of the component's branch", async () => {
    const { webhooks, admin, sent, catalog } = await setup();
    const w = await webhooks.setWebhook(admin, 'acme', 'acme.shop.api');
    const body = push();
    const answer = await webhooks.receive(w.hook_id, github(w.secret, body), body);
    expect(answer).toEqual({ status: 202, body: { action: 'build', event_id: expect.stringMatching(/^evt-/), queued: false, commit: SHA, branch: 'main' } });
    const eventId = (answer.body as { event_id: string }).event_id;
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      topic: 'build',
      eventId,
      payload: {
        kind: {
          case: 'build',
          value: {
            eventId,
            componentId: 'acme.shop.api',
            tenantId: 'acme',
            deployAfter: true,
            options: { ref: SHA },
            source: { kind: { case: 'git', value: { url: REPO } } },
          },
        },
      },
    });
    expect(catalog().operations.get(eventId)).toMatchObject({ kind: 'build', status: 'pending', actor: `webhook:${w.hook_id}` });
  });

  it('answers 401 and starts nothing for a wrong, missing or old secret; 404 for an unknown or deleted hook', async () => {
    const { webhooks, admin, sent, store } = await setup();
    const w = await webhooks.setWebhook(admin, 'acme', 'acme.shop.api');
    const body = push();
    const before = store.events.length;
    expect(await status(webhooks.receive(w.hook_id, github('wrong', body), body))).toBe(401);
    expect(await status(webhooks.receive(w.hook_id, { 'x-github-event': 'push' }, body))).toBe(401);
    expect(await status(webhooks.receive(w.hook_id, { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'nope' }, body))).toBe(401);
    const rotated = await webhooks.setWebhook(admin, 'acme', 'acme.shop.api');
    expect(await status(webhooks.receive(w.hook_id, github(w.secret, body), body))).toBe(401);
    expect(store.events.length).toBe(before + 1); // only the rotation
    expect(sent).toEqual([]);
    expect(await status(webhooks.receive('0'.repeat(32), github(rotated.secret, body), body))).toBe(404);
    expect(await status(webhooks.receive('../etc', github(rotated.secret, body), body))).toBe(404);
    await webhooks.removeWebhook(admin, 'acme', 'acme.shop.api');
    expect(await status(webhooks.receive(w.hook_id, github(rotated.secret, body), body))).toBe(404);
    expect(sent).toEqual([]);
  });

  it('ignores another branch naming it, answers a ping 200, and says what is wrong with a signed body it cannot read', async () => {
    const { webhooks, admin, sent } = await setup();
    const w = await webhooks.setWebhook(admin, 'acme', 'acme.shop.api');
    const other = push({ ref: 'refs/heads/feature-x' });
    expect(await webhooks.receive(w.hook_id, github(w.secret, other), other)).toEqual({
      status: 202,
      body: { action: 'ignored', reason: 'a push to branch feature-x, the component follows main' },
    });
    const ping = Buffer.from('{"zen":"Design for failure."}');
    expect(await webhooks.receive(w.hook_id, { ...github(w.secret, ping), 'x-github-event': 'ping' }, ping)).toMatchObject({ status: 200 });
    const garbage = Buffer.from('{"ref":');
    expect(await status(webhooks.receive(w.hook_id, github(w.secret, garbage), garbage))).toBe(400);
    expect(sent).toEqual([]);
  });

  it('accepts a GitLab push with its token', async () => {
    const { webhooks, admin, sent } = await setup();
    const w = await webhooks.setWebhook(admin, 'acme', 'acme.shop.api');
    const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', after: SHA, checkout_sha: SHA, project: { git_http_url: REPO } }));
    const answer = await webhooks.receive(w.hook_id, { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': w.secret }, body);
    expect(answer).toMatchObject({ status: 202, body: { action: 'build', commit: SHA } });
    expect(sent).toHaveLength(1);
  });

  it('builds a redelivered delivery once, and queues a push behind a running operation', async () => {
    const { webhooks, admin, sent, operations, catalog } = await setup();
    const w = await webhooks.setWebhook(admin, 'acme', 'acme.shop.api');
    const body = push();
    const headers = github(w.secret, body, { 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
    const first = await webhooks.receive(w.hook_id, headers, body);
    expect(first.body).toMatchObject({ action: 'build', event_id: deliveryEventId(w.hook_id, '72d3162e-cc78-11e3-81ab-4c9367dc0958') });
    const again = await webhooks.receive(w.hook_id, headers, body);
    expect(again).toEqual({
      status: 200,
      body: { action: 'duplicate', event_id: (first.body as { event_id: string }).event_id, reason: expect.stringContaining('received before') },
    });
    expect(sent).toHaveLength(1);
    // Another delivery while that build runs waits behind it (queued), like "queue": true.
    const next = await webhooks.receive(w.hook_id, github(w.secret, body, { 'x-github-delivery': 'd-2' }), body);
    expect(next).toMatchObject({ status: 202, body: { action: 'build', queued: true } });
    expect(sent).toHaveLength(1);
    expect([...catalog().operations.values()].filter((o) => o.kind === 'build')).toHaveLength(2);
    // The operations route still refuses without "queue" (nothing changed there).
    expect(await status(operations.requestOperation(admin, 'acme', 'acme.shop.api', operationSchema.parse({ kind: 'build' })))).toBe(409);
  });

  it('makes UUID-shaped operation ids from delivery ids, distinct per hook and delivery', () => {
    const a = deliveryEventId('a'.repeat(32), 'd-1');
    expect(a).toMatch(/^evt-[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deliveryEventId('a'.repeat(32), 'd-1')).toBe(a);
    expect(deliveryEventId('b'.repeat(32), 'd-1')).not.toBe(a);
    expect(deliveryEventId('a'.repeat(32), 'd-2')).not.toBe(a);
  });

  it('keeps webhooks through a catalog snapshot, and forgets a deleted component', async () => {
    const { webhooks, admin, catalog, store } = await setup();
    const w = await webhooks.setWebhook(admin, 'acme', 'acme.shop.api');
    const restored = Catalog.restore(JSON.parse(JSON.stringify(catalog().snapshot())));
    expect(restored.webhooks.get(w.hook_id)).toBe('acme.shop.api');
    expect(restored.components.get('acme.shop.api')!.webhook).toEqual(catalog().components.get('acme.shop.api')!.webhook);
    await store.append('component/acme.shop.api', [{ message: create(eventsV1.ComponentDeletedSchema, { componentId: 'acme.shop.api' }) }], 'any');
    expect(catalog().webhooks.has(w.hook_id)).toBe(false);
  });
});
