import { create, type Message, type MessageInitShape } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import type { NewEvent, RecordedEvent } from '@wharf/event-store';
import { createLogger } from '@wharf/logging';
import { SecretBox } from '@wharf/secrets';
import { systemClock } from '@wharf/system';
import { FakeRuntime, MemoryRuntimeDriver, waitFor } from '@wharf/testing';
import type { Narrator, NarratedOperation } from '../adapters/operation-narrator';
import { SoleOwnership } from '../adapters/ownership';
import { ProbeRunner, type ProbeExecutor, type ProbeTarget } from '../adapters/probe-runner';
import type { EndpointsView, Publisher } from '../adapters/status-publisher';
import { Fleet } from '../domain/fleet';
import type { StatusView } from '../domain/status';
import { Reconciler } from './reconciler';

const ID = 'acme.shop.api';

/** The reconciler against the fake runtime: an in-memory event stream, probes a test decides. */
function setup() {
  const runtime = new FakeRuntime();
  runtime.images.set('img:1', {});
  runtime.images.set('img:2', {});
  const driver = new MemoryRuntimeDriver(runtime, 'dc-test');
  const fleet = new Fleet();
  const events: RecordedEvent[] = [];
  const lines: { eventId: string; text: string }[] = [];
  const finished: { eventId: string; ok: boolean; message: string }[] = [];
  const statuses: StatusView[] = [];
  const endpoints: EndpointsView[] = [];
  /** Replica ids whose probe fails; all others pass. */
  const failing = new Set<string>();
  const probe: ProbeExecutor = {
    run: async (t: ProbeTarget) =>
      failing.has(t.id) || [...failing].includes(t.probe.path) ? { ok: false, output: 'HTTP 500: broken' } : { ok: true, output: 'HTTP 200' },
  };
  const narrator: Narrator = {
    begin: () => undefined,
    line: (eventId, text) => void lines.push({ eventId, text }),
    conclude: (o, ok, message) => void finished.push({ eventId: o.eventId, ok, message }),
    answer: (_o: NarratedOperation) => undefined,
    flush: async () => undefined,
  };
  const publisher: Publisher = {
    status: async (s) => void statuses.push(s),
    endpoints: async (e) => void endpoints.push(e),
    remove: async () => undefined,
  };
  const hooks: { nudge?: (id: string) => void } = {};
  const append = async (stream: string, batch: NewEvent[]) => {
    for (const e of batch) {
      const recorded: RecordedEvent = {
        stream,
        version: (fleet.get(ID)?.streamVersion ?? 0) + 1,
        type: e.message.$typeName,
        message: e.message,
        timeMs: Date.now(),
        eventId: e.eventId ?? '',
        actor: '',
        position: String(events.length + 1),
      };
      events.push(recorded);
      fleet.apply(recorded);
    }
    hooks.nudge?.(ID);
    return { version: fleet.get(ID)!.streamVersion, position: String(events.length) };
  };
  const probes = new ProbeRunner(probe, systemClock, (t) => hooks.nudge?.(t.componentId), 100);
  const deps: ConstructorParameters<typeof Reconciler>[0] = {
    driver,
    fleet: () => fleet,
    store: { append },
    secrets: new SecretBox(Buffer.alloc(32, 1)),
    probes,
    narrator,
    publisher,
    ownership: new SoleOwnership(),
    clock: systemClock,
    logger: createLogger('test', 'silent'),
    settings: {
      dataCenter: 'dc-test',
      maxSurge: 1,
      maxUnavailable: 0,
      minReadyMs: 0,
      progressDeadlineMs: 60_000,
      drainMs: 0,
      stopGraceMs: 0,
      backoffBaseMs: 20,
      backoffMaxMs: 100,
      backoffResetMs: 60_000,
      resyncMs: 200,
      crashLines: 3,
    },
  };
  const reconciler = new Reconciler(deps);
  hooks.nudge = (id) => reconciler.nudge(id);
  const add = (message: Message, eventId = '') => append(`component/${ID}`, [{ message, eventId }]);
  const spec = (over: Exclude<MessageInitShape<typeof eventsV1.ComponentSpecSchema>, eventsV1.ComponentSpec> = {}) =>
    create(eventsV1.ComponentSpecSchema, {
      name: 'api',
      replicas: 2,
      ports: [{ port: 8080, protocol: 'http' }],
      probe: { kind: 'http', path: '/', port: 8080, periodS: 1, failureThreshold: 1 },
      ...over,
    });
  return { runtime, driver, fleet, events, lines, finished, statuses, endpoints, failing, reconciler, probes, add, spec, deps, hooks };
}

type Env = ReturnType<typeof setup>;

async function deployed(t: Env): Promise<void> {
  await t.add(create(eventsV1.ComponentCreatedSchema, { componentId: ID, appId: 'acme.shop', tenantId: 'acme', spec: t.spec() }));
  for (const v of ['1', '2'])
    await t.add(create(eventsV1.VersionRecordedSchema, { componentId: ID, versionId: `v${v}`, image: `img:${v}`, status: 'success' }));
  t.reconciler.start();
  await t.add(create(eventsV1.RolloutStartedSchema, { componentId: ID, kind: 'deploy', versionId: 'v1', image: 'img:1', spec: t.spec(), maxSurge: 1 }), 'd1');
  await waitFor('deployed', async () => (t.finished.some((f) => f.eventId === 'd1') ? true : undefined), 10_000);
}

const versions = async (t: Env) => (await t.driver.listReplicas({ componentId: ID })).map((r) => r.labels.versionId).sort();

describe('Reconciler (fake runtime)', () => {
  let t: Env;
  beforeEach(() => {
    t = setup();
  });
  afterEach(async () => {
    await t.reconciler.stop();
    t.probes.stop();
  });

  it('deploys, publishes the ready endpoints and completes the operation with VersionDeployed', async () => {
    await deployed(t);
    expect(t.finished).toEqual([{ eventId: 'd1', ok: true, message: '2 replica(s) of v1 ready' }]);
    expect(await versions(t)).toEqual(['v1', 'v1']);
    expect(t.events.filter((e) => e.eventId === 'd1').map((e) => e.type)).toEqual([
      'wharf.events.v1.RolloutStarted',
      'wharf.events.v1.VersionDeployed',
      'wharf.events.v1.OperationApplied',
    ]);
    expect(t.endpoints.at(-1)!.endpoints).toHaveLength(2);
    expect(t.statuses.at(-1)).toMatchObject({ state: 'running', readyReplicas: 2, versionId: 'v1' });
  });

  it('aborts an upgrade whose new replica fails its probe: the new ones go, the old ones stay, the operation fails with the output', async () => {
    await deployed(t);
    const old = (await t.driver.listReplicas({ componentId: ID })).map((r) => r.id).sort();
    t.failing.add('/broken');
    await t.add(
      create(eventsV1.RolloutStartedSchema, {
        componentId: ID,
        kind: 'upgrade',
        versionId: 'v2',
        image: 'img:2',
        spec: t.spec({ probe: { kind: 'http', path: '/broken', port: 8080, periodS: 1, failureThreshold: 1 } }),
        maxSurge: 1,
      }),
      'u1',
    );
    const failed = await waitFor('the upgrade to end', async () => t.finished.find((f) => f.eventId === 'u1'), 15_000);
    expect(failed.ok).toBe(false);
    expect(failed.message).toContain('HTTP 500: broken');
    expect((await t.driver.listReplicas({ componentId: ID })).map((r) => r.id).sort()).toEqual(old);
    expect(t.events.map((e) => e.type)).toContain('wharf.events.v1.RolloutAborted');
    expect(t.fleet.get(ID)!.deployed?.versionId).toBe('v1');
    expect(t.lines.some((l) => l.eventId === 'u1' && /rollout failed: .*HTTP 500: broken; restoring v1/.test(l.text))).toBe(true);
  });

  it('a restarted app-manager tells event-log the end of an operation applied but not yet finished there', async () => {
    await deployed(t);
    await t.reconciler.stop();
    t.finished.length = 0;
    const again = new Reconciler(t.deps);
    t.hooks.nudge = (id) => again.nudge(id);
    again.nudge(ID);
    await waitFor('told again', async () => (t.finished.length ? true : undefined), 5_000);
    expect(t.finished).toEqual([{ eventId: 'd1', ok: true, message: '2 replica(s) of v1 ready' }]);
    await again.stop();
    // Once event-log's OperationFinished is in the stream, nobody tells it again.
    await t.add(create(eventsV1.OperationFinishedSchema, { eventId: 'd1', status: eventsV1.OperationStatus.SUCCESS }), 'd1');
    t.finished.length = 0;
    const third = new Reconciler(t.deps);
    third.nudge(ID);
    await new Promise((r) => setTimeout(r, 300));
    await third.stop();
    expect(t.finished).toEqual([]);
  });

  it('replaces a crashed replica after a back-off and counts the restart', async () => {
    await deployed(t);
    const [first] = await t.driver.listReplicas({ componentId: ID });
    t.runtime.exit(first.id, 2);
    const replaced = await waitFor(
      'a replacement',
      async () => {
        const list = await t.driver.listReplicas({ componentId: ID });
        return list.length === 2 && !list.some((r) => r.id === first.id) && list.every((r) => r.phase === 'running') ? list : undefined;
      },
      10_000,
    );
    expect(replaced.map((r) => r.labels.restarts).sort()).toEqual([0, 1]);
    expect(t.statuses.some((s) => s.state === 'abnormal' && /exited with code 2/.test(s.reason))).toBe(true);
  });

  it('keeps going when the runtime is away, and catches up when it is back', async () => {
    await deployed(t);
    t.runtime.down = true;
    await t.add(create(eventsV1.ComponentScaledSchema, { componentId: ID, replicas: 3 }), 's1');
    await new Promise((r) => setTimeout(r, 500));
    expect(t.finished.some((f) => f.eventId === 's1')).toBe(false);
    t.runtime.down = false;
    const done = await waitFor('the scale', async () => t.finished.find((f) => f.eventId === 's1'), 10_000);
    expect(done.ok).toBe(true);
    expect(await versions(t)).toEqual(['v1', 'v1', 'v1']);
  });
});
