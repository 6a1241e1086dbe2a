import type { DesiredComponent, ReplicaTemplate } from './desired';
import type { ObservedReplica } from './plan';
import { statusKey, statusOf } from './status';

const template = (hash: string) => ({ hash, versionId: hash }) as ReplicaTemplate;
const desired = (over: Partial<DesiredComponent> = {}): DesiredComponent => ({
  componentId: 'acme.shop.api',
  tenantId: 'acme',
  appId: 'acme.shop',
  names: { tenant: 'acme', app: 'shop', component: 'api' },
  template: template('v1'),
  replicas: 2,
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
const rep = (slot: number, t: string, over: Partial<ObservedReplica> = {}): ObservedReplica => ({
  id: `c${slot}`,
  name: `wharf-acme-shop-api-${slot}`,
  slot,
  template: t,
  versionId: t,
  restarts: 0,
  phase: 'running',
  health: 'ready',
  retiring: false,
  hostPorts: [],
  ...over,
});
const record = {
  id: 'acme.shop.api',
  tenantId: 'acme',
  appId: 'acme.shop',
  stopped: false,
  deployed: { versionId: 'v1', image: 'i', spec: undefined as never, generation: 0 },
};
const details = () => ({ node: 'host', address: '172.18.0.2' });
const upgrade = { eventId: 'u', kind: 'upgrade' as const, sinceMs: 0 };

describe('status', () => {
  it.each<[string, Parameters<typeof statusOf>[0], DesiredComponent | undefined, ObservedReplica[], string, RegExp]>([
    ['never deployed', { ...record, deployed: undefined }, desired({ template: undefined, replicas: 0 }), [], 'undeployed', /no version deployed yet/],
    ['all ready', record, desired(), [rep(1, 'v1'), rep(2, 'v1')], 'running', /2\/2 replica\(s\) ready/],
    ['starting', record, desired(), [rep(1, 'v1', { health: 'starting' }), rep(2, 'v1', { phase: 'pending', health: 'starting' })], 'starting', /0\/2/],
    [
      'a crashed replica, with its reason',
      record,
      desired(),
      [rep(1, 'v1'), rep(2, 'v1', { phase: 'exited', reason: 'exited with code 3; last lines: boom' })],
      'abnormal',
      /replica wharf-acme-shop-api-2 crashed: exited with code 3; last lines: boom/,
    ],
    [
      "a replica the runtime cannot start (image, scheduling), with the runtime's reason",
      record,
      desired(),
      [rep(1, 'v1'), rep(2, 'v1', { phase: 'creating', health: 'failed', reason: 'ImagePullBackOff: image i cannot be pulled' })],
      'abnormal',
      /replica wharf-acme-shop-api-2 failed: ImagePullBackOff: image i cannot be pulled/,
    ],
    [
      'an unready replica, with the probe output',
      record,
      desired(),
      [rep(1, 'v1'), rep(2, 'v1', { health: 'unready', reason: 'probe http :8080/ failing: HTTP 500' })],
      'abnormal',
      /HTTP 500/,
    ],
    [
      'a rollout',
      record,
      desired({ template: template('v2'), operation: upgrade }),
      [rep(1, 'v1'), rep(2, 'v1'), rep(3, 'v2', { health: 'starting' })],
      'upgrading',
      /rolling out v2: 0\/2/,
    ],
    [
      'a paused rollout',
      record,
      desired({ template: template('v2'), operation: upgrade, paused: true }),
      [rep(1, 'v1'), rep(2, 'v2')],
      'paused',
      /paused: 1\/2 replica\(s\) updated/,
    ],
    [
      'an aborted rollout',
      record,
      desired({ operation: { ...upgrade, aborting: 'image missing' } }),
      [rep(1, 'v1')],
      'abnormal',
      /restoring v1: image missing/,
    ],
    ['stopping', { ...record, stopped: true }, desired({ replicas: 0 }), [rep(1, 'v1', { retiring: true })], 'stopping', /stopping 1/],
    ['stopped', { ...record, stopped: true }, desired({ replicas: 0 }), [], 'stopped', /^stopped$/],
    ['backing off', record, desired(), [rep(1, 'v1')], 'abnormal', /backing off after 2 failure\(s\): OOM killed/],
    ['deleting', record, desired({ retired: true, template: undefined }), [rep(1, 'v1', { retiring: true })], 'deleting', /removing 1/],
    ['orphans', undefined, undefined, [rep(1, 'x')], 'deleting', /no longer exists/],
  ])('%s', (name, r, d, replicas, state, reason) => {
    const backoff = name === 'backing off' ? { failures: 2, retryAtMs: 0, reason: 'OOM killed', template: 'v1' } : undefined;
    const s = statusOf(r, d, replicas, details, backoff);
    expect(s.state).toBe(state);
    expect(s.reason).toMatch(reason);
  });

  it('says why each replica is not ready, and nothing for ready ones', () => {
    const s = statusOf(record, desired(), [rep(1, 'v1'), rep(2, 'v1', { health: 'starting' })], details);
    expect(s.replicas.map((r) => [r.state, r.reason])).toEqual([
      ['ready', ''],
      ['starting', 'waiting for its probe to pass'],
    ]);
  });

  it('shows a replica the runtime is deleting as stopping, not as starting', () => {
    const s = statusOf(record, desired(), [rep(1, 'v1'), rep(2, 'v1'), rep(3, 'v0', { phase: 'removing', health: 'starting' })], details);
    expect(s.replicas.map((r) => r.state)).toEqual(['ready', 'ready', 'stopping']);
    expect(s.state).toBe('running');
  });

  it('compares without what changes by itself', () => {
    const a = statusOf(record, desired(), [rep(1, 'v1')], () => ({ ...details(), probeOutput: 'HTTP 200 at 1' }));
    const b = statusOf(record, desired(), [rep(1, 'v1')], () => ({ ...details(), probeOutput: 'HTTP 200 at 2' }));
    expect(statusKey(a)).toBe(statusKey(b));
  });
});
