import { create, type Message, type MessageInitShape } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import type { NewEvent, RecordedEvent } from '@wharf/event-store';
import { createLogger } from '@wharf/logging';
import { SecretBox } from '@wharf/secrets';
import { systemClock } from '@wharf/system';
import { MemoryWorkloadDriver, waitFor } from '@wharf/testing';
import type { Narrator, NarratedOperation } from '../adapters/operation-narrator';
import { SoleOwnership } from '../adapters/ownership';
import { ProbeRunner } from '../adapters/probe-runner';
import type { EndpointsView, Publisher } from '../adapters/status-publisher';
import { Fleet } from '../domain/fleet';
import type { StatusView } from '../domain/status';
import { Reconciler } from './reconciler';

const ID = 'acme.shop.api';

/** The reconciler against a fake runtime that rolls out itself (as Kubernetes does). */
function setup() {
  const driver = new MemoryWorkloadDriver('dc-test');
  driver.images.set('img:1', {});
  driver.images.set('img:2', {});
  driver.images.set('img:crash', { failWith: 'CrashLoopBackOff: exited with code 3, restarted 2 time(s); last lines: boom' });
  const fleet = new Fleet();
  const events: RecordedEvent[] = [];
  const lines: { eventId: string; text: string }[] = [];
  const finished: { eventId: string; ok: boolean; message: string }[] = [];
  const statuses: StatusView[] = [];
  const endpoints: EndpointsView[] = [];
  const box = new SecretBox(Buffer.alloc(32, 1));
  const narrator: Narrator = {
    begin: () => undefined,
    line: (eventId, text) => void lines.push({ eventId, text }),
    conclude: (o, ok, message) => {
      finished.push({ eventId: o.eventId, ok, message });
      hooks.concluded?.(o.eventId);
    },
    answer: (_o: NarratedOperation) => undefined,
    flush: async () => undefined,
  };
  const publisher: Publisher = {
    status: async (s) => void statuses.push(s),
    endpoints: async (e) => void endpoints.push(e),
    remove: async () => undefined,
  };
  const hooks: { nudge?: (id: string) => void; concluded?: (eventId: string) => void } = {};
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
  // Never asked: the runtime probes.
  const probes = new ProbeRunner({ run: async () => ({ ok: false, output: 'must not be called' }) }, systemClock, () => undefined, 100);
  const deps: ConstructorParameters<typeof Reconciler>[0] = {
    driver,
    fleet: () => fleet,
    store: { append },
    secrets: box,
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
      probe: { kind: 'http', path: '/healthz', port: 8080, periodS: 2, failureThreshold: 3 },
      env: [
        { name: 'GREETING', value: 'hello' },
        { name: 'DB_PASSWORD', secret: true, encryptedValue: box.seal('s3cr3t-value', `${ID}/DB_PASSWORD`) },
      ],
      ...over,
    });
  return { driver, fleet, events, lines, finished, statuses, endpoints, hooks, reconciler, probes, add, spec };
}

type Env = ReturnType<typeof setup>;

const until = (t: Env, eventId: string) => waitFor(`operation ${eventId} to end`, async () => t.finished.find((f) => f.eventId === eventId), 10_000);

async function deployed(t: Env): Promise<void> {
  await t.add(create(eventsV1.ComponentCreatedSchema, { componentId: ID, appId: 'acme.shop', tenantId: 'acme', spec: t.spec() }));
  for (const v of ['1', '2', 'crash'])
    await t.add(create(eventsV1.VersionRecordedSchema, { componentId: ID, versionId: `v${v}`, image: `img:${v}`, status: 'success' }));
  t.reconciler.start();
  await t.add(create(eventsV1.RolloutStartedSchema, { componentId: ID, kind: 'deploy', versionId: 'v1', image: 'img:1', spec: t.spec(), maxSurge: 1 }), 'd1');
  await until(t, 'd1');
}

const versions = async (t: Env) => (await t.driver.listReplicas({ componentId: ID })).map((r) => r.labels.versionId).sort();

describe('Reconciler (runtime rollout)', () => {
  let t: Env;
  beforeEach(() => {
    t = setup();
  });
  afterEach(async () => {
    await t.reconciler.stop();
    t.probes.stop();
    t.driver.close();
  });

  it('hands the whole workload to the runtime and completes the deploy once its pods are ready', async () => {
    await deployed(t);
    expect(t.finished).toEqual([{ eventId: 'd1', ok: true, message: '2 replica(s) of v1 ready' }]);
    const w = t.driver.applied.at(-1)!;
    expect(w).toMatchObject({ replicas: 2, stateful: false, maxSurge: 1, maxUnavailable: 0, paused: false, generation: 0 });
    expect(w.template.image).toBe('img:1');
    expect(w.template.labels).toMatchObject({ dataCenter: 'dc-test', tenantId: 'acme', componentId: ID, versionId: 'v1' });
    // The probe becomes the runtime's readiness; liveness allows as many failures again.
    expect(w.readiness).toEqual({ kind: 'http', path: '/healthz', port: 8080, command: [], initialDelayMs: 0, periodMs: 2000, failureThreshold: 3 });
    expect(w.liveness).toMatchObject({ kind: 'http', failureThreshold: 6 });
    // Secrets are opened for the runtime (into its Secret), never a per-replica number.
    expect(w.template.env).toContainEqual({ name: 'DB_PASSWORD', value: 's3cr3t-value', secret: true });
    expect(w.template.env.some((e) => e.name === 'WHARF_REPLICA')).toBe(false);
    expect(t.events.filter((e) => e.eventId === 'd1').map((e) => e.type)).toEqual([
      'wharf.events.v1.RolloutStarted',
      'wharf.events.v1.VersionDeployed',
      'wharf.events.v1.OperationApplied',
    ]);
    expect(t.endpoints.at(-1)!.endpoints).toHaveLength(2);
    expect(t.statuses.at(-1)).toMatchObject({ state: 'running', readyReplicas: 2, versionId: 'v1' });
  });

  it('does not send an unchanged workload again on every pass', async () => {
    await deployed(t);
    const n = t.driver.applied.length;
    for (let i = 0; i < 5; i++) t.reconciler.nudge(ID);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.driver.applied.length).toBe(n);
  });

  it('scales, stops (replicas 0) and starts through the workload', async () => {
    await deployed(t);
    await t.add(create(eventsV1.ComponentScaledSchema, { componentId: ID, replicas: 3 }), 's1');
    expect((await until(t, 's1')).ok).toBe(true);
    expect(await versions(t)).toEqual(['v1', 'v1', 'v1']);
    await t.add(create(eventsV1.ComponentStoppedSchema, { componentId: ID }), 'stop1');
    expect(await until(t, 'stop1')).toMatchObject({ ok: true, message: 'stopped' });
    expect(t.driver.applied.at(-1)!.replicas).toBe(0);
    expect(await versions(t)).toEqual([]);
    await t.add(create(eventsV1.ComponentStartedSchema, { componentId: ID }), 'start1');
    expect((await until(t, 'start1')).ok).toBe(true);
    expect(await versions(t)).toEqual(['v1', 'v1', 'v1']);
  });

  it('upgrades, and a restart rolls every pod through a new generation', async () => {
    await deployed(t);
    await t.add(
      create(eventsV1.RolloutStartedSchema, { componentId: ID, kind: 'upgrade', versionId: 'v2', image: 'img:2', spec: t.spec(), maxSurge: 1 }),
      'u1',
    );
    expect(await until(t, 'u1')).toMatchObject({ ok: true, message: '2 replica(s) of v2 ready' });
    expect(await versions(t)).toEqual(['v2', 'v2']);
    const before = (await t.driver.listReplicas({ componentId: ID })).map((r) => r.id);
    await t.add(
      create(eventsV1.RolloutStartedSchema, {
        componentId: ID,
        kind: 'restart',
        versionId: 'v2',
        image: 'img:2',
        spec: t.spec(),
        maxSurge: 1,
        restartGeneration: 1n,
      }),
      'r1',
    );
    expect((await until(t, 'r1')).ok).toBe(true);
    expect(t.driver.applied.at(-1)!.generation).toBe(1);
    const after = (await t.driver.listReplicas({ componentId: ID })).map((r) => r.id);
    expect(after.some((id) => before.includes(id))).toBe(false);
  });

  it("rolls a failed upgrade back to the previous release, failing the operation with the pod's reason", async () => {
    await deployed(t);
    await t.add(
      create(eventsV1.RolloutStartedSchema, { componentId: ID, kind: 'upgrade', versionId: 'vcrash', image: 'img:crash', spec: t.spec(), maxSurge: 1 }),
      'u2',
    );
    const failed = await until(t, 'u2');
    expect(failed.ok).toBe(false);
    expect(failed.message).toContain('CrashLoopBackOff: exited with code 3');
    expect(failed.message).toContain('boom');
    expect(t.events.map((e) => e.type)).toContain('wharf.events.v1.RolloutAborted');
    // The previous release was applied again and runs.
    expect(t.driver.applied.map((w) => w.template.image).slice(-2)).toEqual(['img:crash', 'img:1']);
    expect(await versions(t)).toEqual(['v1', 'v1']);
    expect(t.fleet.get(ID)!.deployed?.versionId).toBe('v1');
  });

  it('completes an upgrade only once the runtime no longer routes to the old pods (being removed, still ready)', async () => {
    await deployed(t);
    // The old pods stay routed to (ready, being removed) for a while, as behind a Service whose slices have not dropped them yet.
    t.driver.drainMs = 300;
    const atEnd: { name: string; phase: string; ready?: boolean; version: string }[] = [];
    t.hooks.concluded = (eventId) => {
      if (eventId === 'u4')
        void t.driver
          .listReplicas({ componentId: ID })
          .then((list) => atEnd.push(...list.map((r) => ({ name: r.name, phase: r.phase, ready: r.ready, version: r.labels.versionId }))));
    };
    await t.add(
      create(eventsV1.RolloutStartedSchema, { componentId: ID, kind: 'upgrade', versionId: 'v2', image: 'img:2', spec: t.spec(), maxSurge: 1 }),
      'u4',
    );
    expect(await until(t, 'u4')).toMatchObject({ ok: true, message: '2 replica(s) of v2 ready' });
    await waitFor('the state at the end', async () => (atEnd.length ? true : undefined), 5000);
    expect(atEnd.filter((r) => r.version === 'v1')).toEqual([]);
    expect(atEnd.map((r) => [r.version, r.phase, r.ready])).toEqual([
      ['v2', 'running', true],
      ['v2', 'running', true],
    ]);
    expect(t.lines.map((l) => l.text)).toContainEqual(expect.stringMatching(/2\/2 replica\(s\) of v2 ready, 2 being removed still receiving traffic/));
    expect(t.endpoints.at(-1)!.endpoints.map((e) => e.versionId)).toEqual(['v2', 'v2']);
  });

  it('pauses a rollout (the workload is applied paused) and resumes it', async () => {
    await deployed(t);
    await t.add(
      create(eventsV1.RolloutStartedSchema, { componentId: ID, kind: 'upgrade', versionId: 'v2', image: 'img:2', spec: t.spec(), maxSurge: 1 }),
      'u3',
    );
    await t.add(create(eventsV1.RolloutPausedSchema, { componentId: ID }), 'p1');
    await waitFor('applied paused', async () => (t.driver.applied.some((w) => w.paused && w.template.image === 'img:2') ? true : undefined), 5000);
    await t.add(create(eventsV1.RolloutResumedSchema, { componentId: ID }), 'p2');
    expect((await until(t, 'u3')).ok).toBe(true);
    expect(t.driver.applied.at(-1)).toMatchObject({ paused: false });
  });

  it('removes the workload of a deleted component, then completes the delete', async () => {
    await deployed(t);
    await t.add(create(eventsV1.ComponentRetiredSchema, { componentId: ID }), 'del1');
    expect(await until(t, 'del1')).toMatchObject({ ok: true, message: 'deleted' });
    expect(t.driver.removedWorkloads).toContain(ID);
    expect(await versions(t)).toEqual([]);
  });

  it('fails a deploy whose image the runtime does not know, with its reason', async () => {
    await t.add(create(eventsV1.ComponentCreatedSchema, { componentId: ID, appId: 'acme.shop', tenantId: 'acme', spec: t.spec() }));
    await t.add(create(eventsV1.VersionRecordedSchema, { componentId: ID, versionId: 'vx', image: 'img:none', status: 'success' }));
    t.reconciler.start();
    await t.add(
      create(eventsV1.RolloutStartedSchema, { componentId: ID, kind: 'deploy', versionId: 'vx', image: 'img:none', spec: t.spec(), maxSurge: 1 }),
      'd9',
    );
    const failed = await until(t, 'd9');
    expect(failed.ok).toBe(false);
    expect(failed.message).toContain('image img:none is not known');
  });
});
