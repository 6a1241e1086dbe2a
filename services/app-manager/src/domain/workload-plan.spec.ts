import type { DesiredComponent, ReplicaTemplate } from './desired';
import type { ObservedReplica, PlanInput } from './plan';
import { planWorkload, type WorkloadAction } from './workload-plan';

const template = (hash: string): ReplicaTemplate => ({
  hash,
  versionId: hash,
  image: `img:${hash}`,
  env: [],
  cpuMillis: 100,
  memoryMib: 64,
  ports: [{ port: 8080, protocol: 'http' }],
  volumes: [],
  aliases: ['api.shop'],
  probe: { kind: 'tcp', path: '', port: 8080, command: [], initialDelayMs: 0, periodMs: 10_000, failureThreshold: 3 },
  generation: 0,
  placement: {},
});

const desired = (over: Partial<DesiredComponent> = {}): DesiredComponent => ({
  componentId: 'acme.shop.api',
  tenantId: 'acme',
  appId: 'acme.shop',
  names: { tenant: 'acme', app: 'shop', component: 'api' },
  template: template('v2'),
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

const upgrade = { operation: { eventId: 'up', kind: 'upgrade' as const, sinceMs: 0 } };
let ids = 0;
const pod = (tpl: string, health: ObservedReplica['health'] = 'ready', over: Partial<ObservedReplica> = {}): ObservedReplica => ({
  id: `ns/p${++ids}`,
  name: `p${ids}`,
  slot: 0,
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
  planWorkload({ nowMs: 1_000, desired: d, replicas, progressDeadlineMs: 600_000, ...over });

const brief = (actions: WorkloadAction[]) =>
  actions.map((a) => {
    switch (a.kind) {
      case 'apply':
        return `apply ${a.replicas}${a.paused ? ' paused' : ''}`;
      case 'remove-workload':
        return `remove-workload ${a.why}`;
      case 'complete':
        return `complete ${a.succeeded ? 'ok' : 'failed'}${a.deployVersionId ? ` deploy ${a.deployVersionId}` : ''}${a.cleanup ? ' cleanup' : ''}: ${a.message}`;
      case 'abort':
        return `abort: ${a.reason}`;
      case 'wait':
        return `wait: ${a.why}`;
      default:
        return a.kind;
    }
  });

describe('planWorkload (runtime rollouts)', () => {
  it.each<[string, DesiredComponent | undefined, ObservedReplica[], string[]]>([
    ['steady: the workload is applied, nothing else', desired(), [pod('v2'), pod('v2')], ['apply 2']],
    ['an orphan (unknown component) with pods: its workload goes', undefined, [pod('v1')], ['remove-workload orphan']],
    ['an orphan without pods: nothing', undefined, [], []],
    [
      'upgrade under way: waits, old pods still serving',
      desired(upgrade),
      [pod('v1'), pod('v1'), pod('v2', 'starting')],
      ['apply 2', 'wait: 0/2 replica(s) of v2 ready, 2 of the previous release still serving'],
    ],
    [
      'upgrade in place while old pods terminate, no longer served: complete with VersionDeployed',
      desired(upgrade),
      [pod('v2'), pod('v2'), pod('v1', 'starting', { phase: 'removing' })],
      ['apply 2', 'complete ok deploy v2: 2 replica(s) of v2 ready'],
    ],
    [
      "an old pod being deleted that the runtime still routes to (its Service's slices still list it ready): not in place yet",
      desired(upgrade),
      [pod('v2'), pod('v2'), pod('v1', 'ready', { phase: 'removing' })],
      ['apply 2', 'wait: 2/2 replica(s) of v2 ready, 1 being removed still receiving traffic'],
    ],
    [
      'a scale down: in place once the removed pods are out of the Service',
      desired({ replicas: 1, operation: { eventId: 'sc', kind: 'scale', sinceMs: 0 } }),
      [pod('v2'), pod('v2', 'ready', { phase: 'removing' })],
      ['apply 1', 'wait: 1/1 replica(s) of v2 ready, 1 being removed still receiving traffic'],
    ],
    [
      'a scale up: not in place while a new pod runs but its Service does not list it ready yet',
      desired({ replicas: 3, operation: { eventId: 'sc', kind: 'scale', sinceMs: 0 } }),
      [pod('v2'), pod('v2'), pod('v2', 'starting')],
      ['apply 3', 'wait: 2/3 replica(s) of v2 ready'],
    ],
    [
      "a new pod fails: the rollout is aborted with the pod's reason, the failed release not applied again",
      desired(upgrade),
      [pod('v1'), pod('v1'), pod('v2', 'failed', { name: 'api-x', reason: 'ImagePullBackOff: image img:v2 cannot be pulled' })],
      ['abort: replica api-x (v2) failed: ImagePullBackOff: image img:v2 cannot be pulled'],
    ],
    [
      'a failing pod of the old release does not abort the rollout',
      desired(upgrade),
      [pod('v1', 'failed'), pod('v2', 'starting')],
      ['apply 2', 'wait: 0/2 replica(s) of v2 ready, 1 of the previous release still serving'],
    ],
    [
      'the restore after an abort completes as failed, with the reason',
      desired({ template: template('v1'), operation: { eventId: 'up', kind: 'upgrade', sinceMs: 0, aborting: 'pod crashed' } }),
      [pod('v1'), pod('v1')],
      ['apply 2', 'complete failed: pod crashed'],
    ],
    [
      'stop: replicas 0, done once every pod is gone',
      desired({ replicas: 0, operation: { eventId: 's', kind: 'stop', sinceMs: 0 } }),
      [],
      ['apply 0', 'complete ok: stopped'],
    ],
    [
      'stop waits for terminating pods',
      desired({ replicas: 0, operation: { eventId: 's', kind: 'stop', sinceMs: 0 } }),
      [pod('v2', 'ready', { phase: 'removing' })],
      ['apply 0', 'wait: 1 replica(s) still to stop'],
    ],
    ['paused: applied paused, waits', desired({ ...upgrade, paused: true }), [pod('v1'), pod('v2', 'starting')], ['apply 2 paused', 'wait: rollout paused']],
    [
      'a scale whose new pod cannot be scheduled fails (not a rollout: nothing to restore)',
      desired({ replicas: 3, operation: { eventId: 'sc', kind: 'scale', sinceMs: 0 } }),
      [pod('v2'), pod('v2'), pod('v2', 'failed', { name: 'api-y', phase: 'creating', reason: 'Unschedulable: 0/1 nodes are available' })],
      ['apply 3', 'complete failed: replica api-y (v2) failed: Unschedulable: 0/1 nodes are available'],
    ],
    [
      'deleted: the workload goes, then the delete completes with clean-up',
      desired({ retired: true, template: undefined, operation: { eventId: 'del', kind: 'delete', sinceMs: 0 } }),
      [],
      ['remove-workload delete', 'complete ok cleanup: deleted'],
    ],
    [
      'deleted with pods still terminating: waits',
      desired({ retired: true, template: undefined, operation: { eventId: 'del', kind: 'delete', sinceMs: 0 } }),
      [pod('v2', 'ready', { phase: 'removing' })],
      ['remove-workload delete', 'wait: 1 replica(s) still to remove'],
    ],
    [
      'a deploy without a version fails',
      desired({ template: undefined, operation: { eventId: 'd', kind: 'deploy', sinceMs: 0 } }),
      [],
      ['complete failed: 2 replica(s) ready'],
    ],
  ])('%s', (_name, d, replicas, expected) => {
    expect(brief(run(d, replicas))).toEqual(expected);
  });

  it('aborts a rollout not in place by its progress deadline', () => {
    expect(brief(run(desired(upgrade), [pod('v1'), pod('v2', 'starting')], { nowMs: 700_000 }))).toEqual(['abort: not done after 600 s']);
  });

  it('aborts a rollout the runtime refused (apply failure in the back-off)', () => {
    const backoff = { failures: 1, retryAtMs: 2_000, reason: 'the cluster refused Deployment x: bad', template: 'v2' };
    expect(brief(run(desired(upgrade), [pod('v1')], { backoff }))).toEqual(['abort: the cluster refused Deployment x: bad']);
  });
});
