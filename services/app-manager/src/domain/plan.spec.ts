import type { DesiredComponent, ReplicaTemplate } from './desired';
import { plan, type Action, type Backoff, type ObservedReplica, type PlanInput } from './plan';

const template = (hash: string, versionId = hash, extra: Partial<ReplicaTemplate> = {}): ReplicaTemplate => ({
  hash,
  versionId,
  image: `img:${versionId}`,
  env: [],
  cpuMillis: 100,
  memoryMib: 64,
  ports: [{ port: 8080, protocol: 'http' }],
  volumes: [],
  aliases: ['api.shop'],
  probe: { kind: 'tcp', path: '', port: 8080, command: [], initialDelayMs: 0, periodMs: 10_000, failureThreshold: 3 },
  generation: 0,
  placement: {},
  ...extra,
});

const desired = (over: Partial<DesiredComponent> = {}): DesiredComponent => ({
  componentId: 'acme.shop.api',
  tenantId: 'acme',
  appId: 'acme.shop',
  names: { tenant: 'acme', app: 'shop', component: 'api' },
  template: template('v2'),
  replicas: 3,
  stateful: false,
  maxSurge: 1,
  maxUnavailable: 0,
  paused: false,
  operationFinished: false,
  retired: false,
  problems: [],
  warnings: [],
  ...over,
});

const upgrade = { operation: { eventId: 'evt-up', kind: 'upgrade' as const, sinceMs: 0 } };

let ids = 0;
const rep = (slot: number, tpl: string, health: ObservedReplica['health'] = 'ready', over: Partial<ObservedReplica> = {}): ObservedReplica => ({
  id: `c${++ids}`,
  name: `wharf-acme-shop-api-${slot}`,
  slot,
  template: tpl,
  versionId: tpl,
  restarts: 0,
  phase: 'running',
  health,
  retiring: false,
  hostPorts: [],
  ...over,
});

const run = (d: DesiredComponent | undefined, replicas: ObservedReplica[], over: Partial<PlanInput> = {}) =>
  plan({ nowMs: 1_000, desired: d, replicas, progressDeadlineMs: 600_000, ...over });

/** Actions as short strings, for tables. */
const brief = (actions: Action[]) =>
  actions.map((a) => {
    switch (a.kind) {
      case 'create':
        return `create ${a.slot}`;
      case 'remove':
        return `remove ${a.replica.slot}:${a.replica.template} ${a.why}${a.drain ? ' drain' : ''}`;
      case 'abort':
        return `abort`;
      case 'complete':
        return `complete ${a.succeeded ? 'ok' : 'fail'}${a.deployVersionId ? ` deploy ${a.deployVersionId}` : ''}${a.cleanup ? ' cleanup' : ''}`;
      case 'wait':
        return 'wait';
    }
  });

describe('plan: stateless', () => {
  it.each<[string, DesiredComponent, ObservedReplica[], string[]]>([
    [
      'first deploy creates every replica at once',
      desired({ operation: { eventId: 'e', kind: 'deploy', sinceMs: 0 } }),
      [],
      ['create 1', 'create 2', 'create 3'],
    ],
    ['nothing to do when converged', desired(), [rep(1, 'v2'), rep(2, 'v2'), rep(3, 'v2')], []],
    ['a converged operation completes', desired(upgrade), [rep(1, 'v2'), rep(2, 'v2'), rep(3, 'v2')], ['complete ok deploy v2']],
    ['upgrade starts one surge replica while the old ones serve', desired(upgrade), [rep(1, 'v1'), rep(2, 'v1'), rep(3, 'v1')], ['create 4']],
    ['a starting new replica retires nothing (unavailable 0)', desired(upgrade), [rep(1, 'v1'), rep(2, 'v1'), rep(3, 'v1'), rep(4, 'v2', 'starting')], []],
    [
      'a ready new replica retires one old and makes room for the next',
      desired(upgrade),
      [rep(1, 'v1'), rep(2, 'v1'), rep(3, 'v1'), rep(4, 'v2')],
      ['remove 3:v1 retire drain', 'create 5'],
    ],
    ['when all new are ready the last old one goes', desired(upgrade), [rep(1, 'v1'), rep(2, 'v2'), rep(3, 'v2'), rep(4, 'v2')], ['remove 1:v1 retire drain']],
    [
      'a rollout is in place while its last old replica is being stopped (out of the endpoints)',
      desired(upgrade),
      [rep(1, 'v1', 'ready', { retiring: true }), rep(2, 'v2'), rep(3, 'v2'), rep(4, 'v2')],
      ['complete ok deploy v2'],
    ],
    [
      'a stop waits for its replicas to be gone',
      desired({ replicas: 0, operation: { eventId: 'st', kind: 'stop', sinceMs: 0 } }),
      [rep(1, 'v2', 'ready', { retiring: true })],
      ['wait'],
    ],
    [
      'an unready old replica is retired at once, and its place refilled with a new one',
      desired(upgrade),
      [rep(1, 'v1', 'unready'), rep(2, 'v1'), rep(3, 'v1'), rep(4, 'v2', 'starting')],
      ['remove 1:v1 retire', 'create 5'],
    ],
    [
      'scale up creates the missing ones in the lowest free slots',
      desired({ replicas: 5 }),
      [rep(1, 'v2'), rep(3, 'v2'), rep(4, 'v2')],
      ['create 2', 'create 5'],
    ],
    [
      'scale down removes unready ones first, then the highest slots',
      desired({ replicas: 1 }),
      [rep(1, 'v2'), rep(2, 'v2', 'starting'), rep(3, 'v2')],
      ['remove 2:v2 excess', 'remove 3:v2 excess drain'],
    ],
    ['scale to 0 removes everything', desired({ replicas: 0 }), [rep(1, 'v2'), rep(2, 'v2')], ['remove 1:v2 excess drain', 'remove 2:v2 excess drain']],
    [
      'a crashed replica is removed and replaced in a free slot',
      desired(),
      [rep(1, 'v2', 'ready', { phase: 'exited' }), rep(2, 'v2'), rep(3, 'v2')],
      ['remove 1:v2 crashed', 'create 4'],
    ],
    ['a pending create counts as a replica', desired(), [rep(1, 'v2', 'starting', { phase: 'pending' }), rep(2, 'v2'), rep(3, 'v2')], []],
    ['a paused rollout creates and retires nothing', desired({ ...upgrade, paused: true }), [rep(1, 'v1'), rep(2, 'v1'), rep(3, 'v1'), rep(4, 'v2')], ['wait']],
    [
      'surge 0 / unavailable 1 retires first, then replaces',
      desired({ ...upgrade, maxSurge: 0, maxUnavailable: 1 }),
      [rep(1, 'v1'), rep(2, 'v1'), rep(3, 'v1')],
      ['remove 3:v1 retire drain', 'create 4'],
    ],
    ['surge 2 creates two at once', desired({ ...upgrade, maxSurge: 2 }), [rep(1, 'v1'), rep(2, 'v1'), rep(3, 'v1')], ['create 4', 'create 5']],
    [
      'a host port held by the old replica makes it go first',
      desired({ ...upgrade, replicas: 1, template: template('v2', 'v2', { ports: [{ port: 8080, protocol: 'http', hostPort: 18080 }] }) }),
      [rep(1, 'v1', 'ready', { hostPorts: [18080] })],
      ['remove 1:v1 retire drain', 'create 2'],
    ],
    [
      'after an app-manager restart replicas not probed yet are not retired',
      desired(upgrade),
      [rep(1, 'v1', 'starting'), rep(2, 'v1', 'starting'), rep(3, 'v1', 'starting'), rep(4, 'v2', 'starting')],
      [],
    ],
  ])('%s', (_name, d, replicas, expected) => {
    expect(brief(run(d, replicas))).toEqual(expected);
  });
});

describe('plan: failures', () => {
  it('a replacement carries the restarts of the replica it replaces', () => {
    const actions = run(desired(), [rep(1, 'v2', 'ready', { phase: 'exited', restarts: 4 }), rep(2, 'v2'), rep(3, 'v2')]);
    expect(actions[1]).toEqual({ kind: 'create', slot: 4, restarts: 5, why: 'replica 3/3' });
  });

  it('aborts a rollout when a new replica crashes, naming it and its reason', () => {
    const actions = run(desired(upgrade), [
      rep(1, 'v1'),
      rep(2, 'v1'),
      rep(3, 'v1'),
      rep(4, 'v2', 'starting', { phase: 'exited', reason: 'exited with code 3: boom' }),
    ]);
    expect(brief(actions)).toEqual(['remove 4:v2 crashed', 'abort']);
    expect(actions[1]).toMatchObject({ kind: 'abort', eventId: 'evt-up', reason: expect.stringContaining('exited with code 3: boom') });
  });

  it('aborts a rollout when a new replica never passes its probe', () => {
    const actions = run(desired(upgrade), [
      rep(1, 'v1'),
      rep(2, 'v1'),
      rep(3, 'v1'),
      rep(4, 'v2', 'failed', { reason: 'probe http :8080/ failing: HTTP 500' }),
    ]);
    expect(actions.find((a) => a.kind === 'abort')).toMatchObject({ reason: expect.stringContaining('HTTP 500') });
  });

  it('aborts a rollout when its replicas cannot be created (missing image)', () => {
    const backoff: Backoff = { failures: 1, retryAtMs: 5_000, reason: 'image img:v2 is not on the engine', template: 'v2' };
    expect(run(desired(upgrade), [rep(1, 'v1')], { backoff })).toEqual([{ kind: 'abort', eventId: 'evt-up', reason: backoff.reason }]);
  });

  it('aborts a rollout that makes no progress before the deadline', () => {
    const actions = run(desired(upgrade), [rep(1, 'v1'), rep(2, 'v2', 'starting')], { nowMs: 700_000 });
    expect(actions).toEqual([{ kind: 'abort', eventId: 'evt-up', reason: 'not done after 600 s' }]);
  });

  it('a paused rollout is never overdue', () => {
    expect(brief(run(desired({ ...upgrade, paused: true }), [rep(1, 'v1'), rep(2, 'v2', 'starting')], { nowMs: 700_000 }))).toEqual(['wait']);
  });

  it('while aborting, restores the previous release and then fails the operation with the reason', () => {
    const aborting = desired({ template: template('v1'), operation: { eventId: 'evt-up', kind: 'upgrade', sinceMs: 0, aborting: 'replica x crashed' } });
    expect(brief(run(aborting, [rep(1, 'v1'), rep(2, 'v1'), rep(3, 'v1'), rep(4, 'v2', 'starting')]))).toEqual(['remove 4:v2 retire']);
    const done = run(aborting, [rep(1, 'v1'), rep(2, 'v1'), rep(3, 'v1')]);
    expect(done).toEqual([{ kind: 'complete', eventId: 'evt-up', succeeded: false, message: 'replica x crashed', deployVersionId: undefined, cleanup: false }]);
  });

  it('a first deploy that aborts removes everything and fails', () => {
    const d = desired({ template: undefined, replicas: 0, operation: { eventId: 'e', kind: 'deploy', sinceMs: 0, aborting: 'image missing' } });
    expect(brief(run(d, [rep(1, 'v2', 'starting')]))).toEqual(['remove 1:v2 excess', 'wait']);
    expect(run(d, [])).toEqual([{ kind: 'complete', eventId: 'e', succeeded: false, message: 'image missing', deployVersionId: undefined, cleanup: false }]);
  });

  it('without an operation, backs off instead of recreating a crashing replica at once', () => {
    const backoff: Backoff = { failures: 2, retryAtMs: 5_000, reason: 'exited with code 1', template: 'v2' };
    expect(brief(run(desired(), [rep(1, 'v2'), rep(2, 'v2')], { backoff }))).toEqual(['wait']);
    const later = run(desired(), [rep(1, 'v2'), rep(2, 'v2')], { backoff, nowMs: 6_000 });
    expect(later).toEqual([{ kind: 'create', slot: 3, restarts: 2, why: 'replica 3/3' }]);
  });

  it('a scale that cannot be met fails its operation but keeps trying', () => {
    const backoff: Backoff = { failures: 1, retryAtMs: 500, reason: 'image missing', template: 'v2' };
    const d = desired({ replicas: 2, operation: { eventId: 'sc', kind: 'scale', sinceMs: 0 } });
    expect(brief(run(d, [rep(1, 'v2')], { backoff }))).toEqual(['complete fail', 'create 2']);
  });

  it('a fatal problem (two replicas on one host port) fails the operation and creates nothing', () => {
    const d = desired({ ...upgrade, problems: ['a component with a host port runs one replica'] });
    expect(run(d, [rep(1, 'v1')])).toEqual([{ kind: 'abort', eventId: 'evt-up', reason: 'a component with a host port runs one replica' }]);
  });
});

describe('plan: nothing wanted', () => {
  it('removes the replicas of a component nobody knows (orphans)', () => {
    expect(brief(run(undefined, [rep(1, 'x'), rep(2, 'x', 'starting')]))).toEqual(['remove 1:x orphan drain', 'remove 2:x orphan']);
  });

  it('delete removes every replica, then completes with the clean-up', () => {
    const d = desired({ retired: true, template: undefined, replicas: 0, operation: { eventId: 'del', kind: 'delete', sinceMs: 0 } });
    expect(brief(run(d, [rep(1, 'v2')]))).toEqual(['remove 1:v2 delete drain', 'wait']);
    expect(brief(run(d, [rep(1, 'v2', 'ready', { retiring: true })]))).toEqual(['wait']);
    expect(brief(run(d, []))).toEqual(['complete ok cleanup']);
  });

  it('stop removes every replica and completes once they are gone', () => {
    const d = desired({ replicas: 0, operation: { eventId: 'st', kind: 'stop', sinceMs: 0 } });
    expect(brief(run(d, [rep(1, 'v2')]))).toEqual(['remove 1:v2 excess drain', 'wait']);
    expect(brief(run(d, []))).toEqual(['complete ok']);
  });
});

describe('plan: stateful', () => {
  const vol = { volumes: [{ name: 'data', mountPath: '/data', sizeMib: 10 }] };
  const sd = (over: Partial<DesiredComponent> = {}) => desired({ stateful: true, template: template('v2', 'v2', vol), ...over });

  it.each<[string, DesiredComponent, ObservedReplica[], string[]]>([
    ['creates the fixed slots 1..N', sd(), [], ['create 1', 'create 2', 'create 3']],
    ['replaces a missing slot with the same number (its volume waits there)', sd(), [rep(1, 'v2'), rep(3, 'v2')], ['create 2']],
    [
      'replaces old replicas in place, one at a time, highest slot first',
      sd(upgrade),
      [rep(1, 'v1'), rep(2, 'v1'), rep(3, 'v1')],
      ['remove 3:v1 retire drain'],
    ],
    ['waits while a slot is being replaced', sd(upgrade), [rep(1, 'v1'), rep(2, 'v1'), rep(3, 'v1', 'ready', { retiring: true })], []],
    ['recreates the replaced slot with the new release', sd(upgrade), [rep(1, 'v1'), rep(2, 'v1')], ['create 3']],
    ['waits for the new replica of the slot to be ready', sd(upgrade), [rep(1, 'v1'), rep(2, 'v1'), rep(3, 'v2', 'starting')], []],
    ['moves on to the next slot', sd(upgrade), [rep(1, 'v1'), rep(2, 'v1'), rep(3, 'v2')], ['remove 2:v1 retire drain']],
    [
      'scale down removes the highest slots (their volumes stay)',
      sd({ replicas: 1 }),
      [rep(1, 'v2'), rep(2, 'v2'), rep(3, 'v2')],
      ['remove 3:v2 excess drain', 'remove 2:v2 excess drain'],
    ],
    [
      'a crashed slot is recreated in the same slot once it is gone',
      sd(),
      [rep(1, 'v2'), rep(2, 'v2', 'ready', { phase: 'exited' }), rep(3, 'v2')],
      ['remove 2:v2 crashed'],
    ],
  ])('%s', (_name, d, replicas, expected) => {
    expect(brief(run(d, replicas))).toEqual(expected);
  });
});
