import type { NodeStateName } from '@wharf/nodes';
import type { ClusterNode, NodePod } from '@wharf/runtime';
import { desiredNode, planNode } from './kubernetes-node-plan';

const record = (state: NodeStateName, o: { labels?: Record<string, string>; roles?: string[] } = {}) => ({
  state,
  labels: o.labels ?? { zone: 'a' },
  roles: o.roles ?? ['compute'],
});
const node = (o: Partial<ClusterNode> = {}): ClusterNode => ({
  name: 'node-2',
  ready: true,
  readyMessage: 'KubeletReady: kubelet is posting ready status',
  unschedulable: false,
  labels: { 'kubernetes.io/hostname': 'node-2', zone: 'a', 'wharf.io/role-compute': 'true' },
  ownedLabels: ['zone', 'wharf.io/role-compute'],
  ...o,
});
const pod = (name: string, o: Partial<NodePod> = {}): NodePod => ({
  namespace: 'wharf-acme',
  name,
  movable: true,
  terminating: false,
  ready: true,
  phase: 'Running',
  ...o,
});
const summary = (p: ReturnType<typeof planNode>) =>
  p.pods.map((a) => (a.kind === 'evict' ? `evict ${a.pod.name}${a.forceIfBlocked ? ' (force if blocked)' : ''}` : `force ${a.pod.name}`));

describe('the Kubernetes node of a Wharf node', () => {
  it('carries its labels and one label per role, and is schedulable only when READY', () => {
    expect(desiredNode(record('READY', { roles: ['compute', 'gateway'] }))).toEqual({
      labels: { zone: 'a', 'wharf.io/role-compute': 'true', 'wharf.io/role-gateway': 'true' },
      unschedulable: false,
    });
    for (const s of ['NEW', 'INITED', 'ERROR_DETECTED', 'ERROR', 'OFFLINE'] as const) expect(desiredNode(record(s)).unschedulable).toBe(true);
  });

  it.each([
    ['a READY node as it should be: nothing', record('READY'), node(), undefined],
    ['cordon (INITED): unschedulable', record('INITED'), node(), { unschedulable: true }],
    ['uncordon (READY again): schedulable', record('READY'), node({ unschedulable: true }), { unschedulable: false }],
    ['a changed label', record('READY', { labels: { zone: 'b' } }), node(), { labels: { zone: 'b', 'wharf.io/role-compute': 'true' } }],
    ['a role taken away: its label goes', record('READY', { roles: ['gateway'] }), node(), { labels: { zone: 'a', 'wharf.io/role-gateway': 'true' } }],
    ['a label of Wharf removed (it owned it)', record('READY', { labels: {} }), node(), { labels: { 'wharf.io/role-compute': 'true' } }],
  ])('%s', (_what, r, n, expected) => {
    const plan = planNode(r, n, []);
    if (expected === undefined) expect(plan.apply).toBeUndefined();
    else expect(plan.apply).toMatchObject(expected);
    expect(plan.pods).toEqual([]);
    expect(plan.migrated).toBe(false);
  });

  it("leaves labels it never applied alone (the kubelet's, an administrator's)", () => {
    expect(planNode(record('READY'), node({ labels: { ...node().labels, 'team/owner': 'ops' } }), []).apply).toBeUndefined();
  });

  it('does not drain a node that is not ERROR_DETECTED, whatever runs on it', () => {
    for (const s of ['NEW', 'INITED', 'READY', 'ERROR'] as const)
      expect(planNode(record(s), node({ unschedulable: s !== 'READY' }), [pod('a')]).pods).toEqual([]);
  });
});

describe('draining an ERROR_DETECTED node', () => {
  it('cordons it and evicts every movable pod through the Eviction API while its kubelet lives', () => {
    const p = planNode(record('ERROR_DETECTED'), node(), [pod('a'), pod('b', { ready: false }), pod('ds', { movable: false })]);
    expect(p.apply?.unschedulable).toBe(true);
    expect(summary(p)).toEqual(['evict a', 'evict b']);
    expect(p.migrated).toBe(false);
    expect(p.remaining).toBe(2);
  });

  it('waits for evicted pods a live kubelet stops', () => {
    const p = planNode(record('ERROR_DETECTED'), node({ unschedulable: true }), [pod('a', { terminating: true })]);
    expect(p.pods).toEqual([]);
    expect(p.migrated).toBe(false);
  });

  it('on a NotReady node: force-deletes evicted pods, and unready ones whose eviction a budget blocks', () => {
    const dead = node({ ready: false, readyMessage: 'NodeStatusUnknown: Kubelet stopped posting node status.', unschedulable: true });
    const p = planNode(record('ERROR_DETECTED'), dead, [pod('gone', { terminating: true }), pod('ready'), pod('unready', { ready: false })]);
    expect(summary(p)).toEqual(['force gone', 'evict ready', 'evict unready (force if blocked)']);
    const force = p.pods[0];
    expect(force.kind === 'force-delete' && force.why).toContain('node node-2 is not Ready (NodeStatusUnknown');
  });

  it('is done (migrated) when no movable pod is left: DaemonSet pods and finished pods do not count', () => {
    const p = planNode(record('ERROR_DETECTED'), node({ unschedulable: true }), [
      pod('ds', { movable: false }),
      pod('job', { phase: 'Succeeded' }),
      pod('bad', { phase: 'Failed' }),
    ]);
    expect(p.pods).toEqual([]);
    expect(p.migrated).toBe(true);
  });
});
