import { create, type Message, type MessageInitShape } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { fold, type RecordedEvent } from '@wharf/event-store';
import { makeTask } from '@wharf/tasks';
import { createHash } from 'node:crypto';
import { renderDesired } from './desired';
import { currentRelease, fleetProjection, wantedReplicas, type Fleet } from './fleet';
import { intentOf } from './intents';

const ID = 'acme.shop.api';
const settings = { maxSurge: 1, maxUnavailable: 0, maxReplicas: 100 };
const render = { maxSurge: 1, maxUnavailable: 0, minReadyMs: 1000 };

/** A stream of recorded events, versions and positions counting up. */
class Stream {
  readonly events: RecordedEvent[] = [];
  add(message: Message, eventId = '', stream = `component/${ID}`): this {
    const version = this.events.filter((e) => e.stream === stream).length + 1;
    this.events.push({
      stream,
      version,
      type: message.$typeName,
      message,
      timeMs: 1000 + this.events.length,
      eventId,
      actor: '',
      position: String(this.events.length + 1),
    });
    return this;
  }
  fleet(): Fleet {
    return fold(fleetProjection, this.events);
  }
}

const spec = (over: MessageInitShape<typeof eventsV1.ComponentSpecSchema> = {}) =>
  create(eventsV1.ComponentSpecSchema, { name: 'api', ports: [{ port: 8080, protocol: 'http' }], replicas: 2, cpuMillis: 100, memoryMib: 64, ...over });

function created(over: MessageInitShape<typeof eventsV1.ComponentSpecSchema> = {}): Stream {
  return new Stream()
    .add(create(eventsV1.ComponentCreatedSchema, { componentId: ID, appId: 'acme.shop', tenantId: 'acme', spec: spec(over) }))
    .add(create(eventsV1.VersionRecordedSchema, { componentId: ID, versionId: 'v1', image: 'reg/api:1', status: 'success' }))
    .add(create(eventsV1.VersionRecordedSchema, { componentId: ID, versionId: 'v2', image: 'reg/api:2', status: 'success' }));
}

/** Applies a task as app-manager does: its intent's events under the task's event id. */
function apply(s: Stream, task: ReturnType<typeof makeTask>): Stream {
  const r = s.fleet().get(ID)!;
  const eventId = task.kind.value!.eventId;
  for (const e of intentOf(task, r, settings).events) s.add(e, eventId);
  return s;
}

const header = { tenantId: 'acme', componentId: ID };

describe('fleet fold and intents', () => {
  it('deploys the newest successful version with the spec as it is now', () => {
    const s = apply(created(), makeTask('deploy', { ...header, eventId: 'd1' }));
    const r = s.fleet().get(ID)!;
    expect(r.operation).toMatchObject({ eventId: 'd1', kind: 'deploy' });
    expect(currentRelease(r)).toMatchObject({ versionId: 'v2', image: 'reg/api:2' });
    expect(wantedReplicas(r)).toBe(2);
    expect(renderDesired(r, s.fleet(), render).template?.versionId).toBe('v2');
  });

  it("carries the release's placement into the template; an empty one leaves the hash as before placements", () => {
    const plain = renderDesired(
      apply(created(), makeTask('deploy', { ...header, eventId: 'd1' }))
        .fleet()
        .get(ID)!,
      new Stream().fleet(),
      render,
    ).template!;
    const placed = renderDesired(
      apply(created({ placement: { disk: 'ssd' } }), makeTask('deploy', { ...header, eventId: 'd1' }))
        .fleet()
        .get(ID)!,
      new Stream().fleet(),
      render,
    ).template!;
    expect(plain.placement).toEqual({});
    expect(placed.placement).toEqual({ disk: 'ssd' });
    expect(placed.hash).not.toBe(plain.hash);
    // The hash of a template without placement, as app-manager computed it before the field existed.
    const { placement: _p, hash: _h, ...rest } = plain;
    void _p;
    void _h;
    const legacy = createHash('sha256')
      .update(JSON.stringify({ ...rest, env: rest.env.map((e) => (e.secret ? [e.name, Buffer.from(e.sealed).toString('base64')] : [e.name, e.value])) }))
      .digest('hex')
      .slice(0, 16);
    expect(plain.hash).toBe(legacy);
  });

  it('a redelivered task adds nothing', () => {
    const s = apply(created(), makeTask('deploy', { ...header, eventId: 'd1' }));
    const again = intentOf(makeTask('deploy', { ...header, eventId: 'd1' }), s.fleet().get(ID)!, settings);
    expect(again).toEqual({ events: [], duplicate: true });
  });

  it('a spec change waits for the next rollout; an aborted rollout returns to the release before', () => {
    const s = apply(created(), makeTask('deploy', { ...header, eventId: 'd1', versionId: 'v1' }));
    s.add(create(eventsV1.VersionDeployedSchema, { componentId: ID, versionId: 'v1', eventId: 'd1' }), 'd1');
    s.add(create(eventsV1.OperationAppliedSchema, { eventId: 'd1', succeeded: true }), 'd1');
    const before = renderDesired(s.fleet().get(ID)!, s.fleet(), render).template!.hash;
    s.add(create(eventsV1.ComponentUpdatedSchema, { componentId: ID, spec: spec({ env: [{ name: 'A', value: '1' }] }) }));
    expect(renderDesired(s.fleet().get(ID)!, s.fleet(), render).template!.hash).toBe(before);
    apply(s, makeTask('upgrade', { ...header, eventId: 'u1', versionId: 'v2' }));
    const rolling = renderDesired(s.fleet().get(ID)!, s.fleet(), render);
    expect(rolling.template!.hash).not.toBe(before);
    expect(rolling.template!.env).toContainEqual({ name: 'A', value: '1', secret: false });
    expect(rolling.previous!.hash).toBe(before);
    s.add(create(eventsV1.RolloutAbortedSchema, { componentId: ID, reason: 'probe failing' }), 'u1');
    const aborting = s.fleet().get(ID)!;
    expect(aborting.operation?.aborting).toBe('probe failing');
    expect(renderDesired(aborting, s.fleet(), render).template!.hash).toBe(before);
    s.add(create(eventsV1.OperationAppliedSchema, { eventId: 'u1', succeeded: false }), 'u1');
    expect(s.fleet().get(ID)!.operation).toBeUndefined();
    expect(s.fleet().get(ID)!.deployed?.versionId).toBe('v1');
  });

  it('restart rolls every replica (a new generation) with the latest spec', () => {
    const s = apply(created(), makeTask('deploy', { ...header, eventId: 'd1' }));
    s.add(create(eventsV1.VersionDeployedSchema, { componentId: ID, versionId: 'v2', eventId: 'd1' }), 'd1');
    s.add(create(eventsV1.OperationAppliedSchema, { eventId: 'd1', succeeded: true }), 'd1');
    const before = renderDesired(s.fleet().get(ID)!, s.fleet(), render).template!;
    apply(s, makeTask('restart', { ...header, eventId: 'r1' }));
    const after = renderDesired(s.fleet().get(ID)!, s.fleet(), render).template!;
    expect(after.versionId).toBe('v2');
    expect(after.generation).not.toBe(before.generation);
    expect(after.hash).not.toBe(before.hash);
  });

  it('scale, stop and start change what is wanted; delete retires the component', () => {
    const s = apply(created(), makeTask('deploy', { ...header, eventId: 'd1' }));
    s.add(create(eventsV1.VersionDeployedSchema, { componentId: ID, versionId: 'v2' }), 'd1');
    apply(s, makeTask('scale', { ...header, eventId: 's1', replicas: 5 }));
    expect(wantedReplicas(s.fleet().get(ID)!)).toBe(5);
    apply(s, makeTask('stop', { ...header, eventId: 's2' }));
    expect(wantedReplicas(s.fleet().get(ID)!)).toBe(0);
    apply(s, makeTask('start', { ...header, eventId: 's3' }));
    expect(wantedReplicas(s.fleet().get(ID)!)).toBe(5);
    apply(s, makeTask('delete', { ...header, eventId: 's4' }));
    const r = s.fleet().get(ID)!;
    expect(r.retired).toBe(true);
    expect(renderDesired(r, s.fleet(), render).template).toBeUndefined();
  });

  it('pause and resume hold the rollout in progress; a pause without one fails at once', () => {
    const s = apply(created(), makeTask('upgrade', { ...header, eventId: 'u1' }));
    const noRollout = intentOf(makeTask('pause', { ...header, eventId: 'p0', rolloutEventId: 'other' }), s.fleet().get(ID)!, settings);
    expect(noRollout.immediate).toEqual({ ok: false, message: `rollout other is not in progress on ${ID}` });
    apply(s, makeTask('pause', { ...header, eventId: 'p1', rolloutEventId: 'u1' }));
    expect(s.fleet().get(ID)!.paused).toBe(true);
    expect(s.fleet().get(ID)!.operation?.eventId).toBe('u1');
    const since = s.fleet().get(ID)!.operation!.sinceMs;
    apply(s, makeTask('resume', { ...header, eventId: 'p2', rolloutEventId: 'u1' }));
    expect(s.fleet().get(ID)!.paused).toBe(false);
    // The paused time does not count against the rollout's deadline.
    expect(s.fleet().get(ID)!.operation!.sinceMs).toBeGreaterThan(since);
  });

  it('refuses what cannot be done, naming why', () => {
    const r = created().fleet().get(ID)!;
    expect(() => intentOf(makeTask('restart', { ...header, eventId: 'x' }), r, settings)).toThrow(/no deployed version to restart/);
    expect(() => intentOf(makeTask('upgrade', { ...header, eventId: 'x', versionId: 'v9' }), r, settings)).toThrow(/no version v9/);
    expect(() => intentOf(makeTask('scale', { ...header, eventId: 'x', replicas: 1000 }), r, settings)).toThrow(/at most 100/);
    const none = new Stream().add(create(eventsV1.ComponentCreatedSchema, { componentId: ID, appId: 'acme.shop', tenantId: 'acme', spec: spec() })).fleet();
    expect(() => intentOf(makeTask('deploy', { ...header, eventId: 'x' }), none.get(ID)!, settings)).toThrow(/no successful version/);
  });

  it('a new operation supersedes one never applied', () => {
    const s = apply(created(), makeTask('deploy', { ...header, eventId: 'd1' }));
    const next = intentOf(makeTask('stop', { ...header, eventId: 'st' }), s.fleet().get(ID)!, settings);
    expect(next.events[0]).toMatchObject({ $typeName: 'wharf.events.v1.OperationApplied', eventId: 'd1', succeeded: false });
  });

  it('gives a dependant the dependency host and ports, and rolls it when they change', () => {
    const db = 'acme.shop.db';
    const s = created({ dependsOn: ['db'] });
    s.add(
      create(eventsV1.ComponentCreatedSchema, {
        componentId: db,
        appId: 'acme.shop',
        tenantId: 'acme',
        spec: spec({ name: 'db', ports: [{ port: 5432, protocol: 'tcp' }] }),
      }),
      '',
      `component/${db}`,
    );
    apply(s, makeTask('deploy', { ...header, eventId: 'd1' }));
    const env = renderDesired(s.fleet().get(ID)!, s.fleet(), render).template!.env;
    expect(env).toEqual(
      expect.arrayContaining([
        { name: 'DB_HOST', value: 'db.shop', secret: false, hostOf: { componentId: db, app: 'shop', component: 'db' } },
        { name: 'DB_PORT', value: '5432', secret: false },
        { name: 'DB_5432_PORT', value: '5432', secret: false },
      ]),
    );
    const before = renderDesired(s.fleet().get(ID)!, s.fleet(), render).template!.hash;
    s.add(
      create(eventsV1.ComponentUpdatedSchema, { componentId: db, spec: spec({ name: 'db', ports: [{ port: 6543, protocol: 'tcp' }] }) }),
      '',
      `component/${db}`,
    );
    const after = renderDesired(s.fleet().get(ID)!, s.fleet(), render).template!;
    expect(after.env).toContainEqual({ name: 'DB_PORT', value: '6543', secret: false });
    expect(after.hash).not.toBe(before);
  });

  it('passes on the env a dependency declares for its consumers, its secrets sealed for the dependency', () => {
    const db = 'acme.shop.db';
    const sealed = new Uint8Array([9, 9]);
    const s = created({ dependsOn: ['db'], env: [{ name: 'DB_URL', value: 'mine wins' }] });
    s.add(
      create(eventsV1.ComponentCreatedSchema, {
        componentId: db,
        appId: 'acme.shop',
        tenantId: 'acme',
        spec: spec({
          name: 'db',
          consumerEnv: [
            { name: 'DB_URL', value: 'postgres://db.shop/app' },
            { name: 'DB_PASSWORD', secret: true, encryptedValue: sealed },
          ],
        }),
      }),
      '',
      `component/${db}`,
    );
    apply(s, makeTask('deploy', { ...header, eventId: 'd1' }));
    const env = renderDesired(s.fleet().get(ID)!, s.fleet(), render).template!.env;
    expect(env).toContainEqual({ name: 'DB_URL', value: 'mine wins', secret: false });
    expect(env).toContainEqual({ name: 'DB_PASSWORD', secret: true, sealed, context: `${db}/DB_PASSWORD` });
  });

  it('never puts a secret in clear into the template, and its hash changes only with the sealed value', () => {
    const sealed = new Uint8Array([1, 2, 3]);
    const s = apply(created({ env: [{ name: 'PASSWORD', secret: true, encryptedValue: sealed }] }), makeTask('deploy', { ...header, eventId: 'd1' }));
    const t = renderDesired(s.fleet().get(ID)!, s.fleet(), render).template!;
    expect(t.env.find((e) => e.name === 'PASSWORD')).toEqual({ name: 'PASSWORD', secret: true, sealed, context: `${ID}/PASSWORD` });
  });
});
