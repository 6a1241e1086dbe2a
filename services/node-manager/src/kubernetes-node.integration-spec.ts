import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { NodeDirectory, type NodeStateName } from '@wharf/nodes';
import { KubernetesDriver, LABEL, type ReplicaState, type WorkloadSpec } from '@wharf/runtime';
import {
  dockerClient,
  httpTestImage,
  startEtcd,
  startKubernetesCluster,
  startNodeManager,
  waitFor,
  type EtcdInstance,
  type KubernetesCluster,
  type RunningNodeManager,
} from '@wharf/testing';
import { randomBytes } from 'node:crypto';

// node-manager on a real two-node Kubernetes 1.20 cluster (two kubelets, each with its own
// containerd): Wharf's node is the cluster's node of the same name. Labels and roles reach the
// Node, a cordon makes it unschedulable, a component's replicas spread over both nodes and its
// placement is a nodeSelector; a node whose node-manager is killed and whose kubelet stops is
// ERROR_DETECTED, drained, its replicas Ready on the other node, and then ERROR.

const runId = randomBytes(3).toString('hex');
const IMAGE = `wharf-test/k8s-node-${runId}:v1`;
const DC = `kn${runId}`;
const TTL_S = 3;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function workload(componentId: string, replicas: number, placement?: Record<string, string>): WorkloadSpec {
  const component = componentId.split('.').pop()!;
  return {
    template: {
      labels: { dataCenter: DC, tenantId: 'acme', appId: 'acme.shop', componentId, versionId: 'v1', template: 'aaa111' },
      names: { tenant: 'acme', app: 'shop', component },
      image: IMAGE,
      env: [],
      cpuMillis: 50,
      memoryMib: 16,
      ports: [{ port: 8080, protocol: 'http' }],
      volumes: [],
      aliases: [`${component}.shop`],
      stopGraceMs: 1000,
    },
    replicas,
    stateful: false,
    maxSurge: 1,
    maxUnavailable: 0,
    paused: false,
    readiness: { kind: 'http', path: '/', port: 8080, command: [], initialDelayMs: 0, periodMs: 1000, failureThreshold: 2 },
    generation: 0,
    progressDeadlineMs: 60_000,
    ...(placement ? { placement } : {}),
  };
}

describe('node-manager on a two-node Kubernetes cluster', () => {
  let cluster: KubernetesCluster | undefined;
  let etcd: EtcdInstance | undefined;
  let client: Etcd3 | undefined;
  let nodes: NodeDirectory;
  let driver: KubernetesDriver;
  const managers: RunningNodeManager[] = [];

  const k8sNode = async (name: string) => (await cluster!.api<Json>('GET', `/api/v1/nodes/${name}`)).body;
  const until = (id: string, state: NodeStateName, timeoutMs: number) =>
    waitFor(
      `${id} ${state}`,
      async () => {
        const view = await nodes.get(id);
        if (view.record.state === state) return view.record;
        const failing = view.heartbeat?.conditions.filter((c) => !c.ok).map((c) => `${c.type}: ${c.message}`) ?? [];
        throw new Error(`${id} is ${view.record.state}${failing.length ? `; failing ${failing.join('; ')}` : ''}`);
      },
      timeoutMs,
      100,
    );
  const pods = async (componentId: string) => (await driver.listReplicas({ componentId })).filter((r) => r.phase !== 'removing');
  const readyPods = (componentId: string, n: number, check: (list: ReplicaState[]) => boolean = () => true, timeoutMs = 60_000) =>
    waitFor(
      `${n} ready pods of ${componentId}`,
      async () => {
        const list = await pods(componentId);
        if (list.length === n && list.every((r) => r.ready) && check(list)) return list;
        throw new Error(`pods: ${list.map((r) => `${r.name}@${r.node || '-'}${r.ready ? ' ready' : ''}`).join(', ') || 'none'}`);
      },
      timeoutMs,
      250,
    );
  const byNode = (list: ReplicaState[]) => list.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.node]: (acc[r.node] ?? 0) + 1 }), {});

  beforeAll(async () => {
    await httpTestImage(dockerClient(), IMAGE, 'v1');
    [cluster, etcd] = await Promise.all([startKubernetesCluster({ nodes: 2 }), startEtcd()]);
    await cluster.importImage(IMAGE);
    client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    const store = new EtcdEventStore({ client, keys: new KeyLayout() });
    nodes = new NodeDirectory(client, new KeyLayout(), store);
    driver = new KubernetesDriver({ dataCenter: DC, kubeconfigPath: cluster.kubeconfigPath, gatewayCidrs: [`${cluster.nodes[0].ip}/32`] });
    const env = {
      WHARF_RUNTIME: 'kubernetes',
      WHARF_KUBECONFIG: cluster.kubeconfigPath,
      WHARF_NODE_LEASE_TTL_S: String(TTL_S),
      WHARF_NODE_REPORT_MS: '500',
      WHARF_DATA_CENTER: DC,
    };
    // node-1's node-manager is the watcher (node-2's does not campaign): the one that outlives the death below.
    managers.push(await startNodeManager(etcd, 'node-1', { ...env, WHARF_NODE_LABELS: 'zone=a' }));
    managers.push(await startNodeManager(etcd, 'node-2', { ...env, WHARF_NODE_WATCH: 'false', WHARF_NODE_LABELS: 'zone=b' }));
  }, 300_000);

  afterAll(async () => {
    for (const nm of managers) await nm.stop('SIGKILL').catch(() => undefined);
    client?.close();
    await etcd?.destroy();
    await cluster?.stop();
    await dockerClient()
      .getImage(IMAGE)
      .remove({ force: true })
      .catch(() => undefined);
  }, 120_000);

  it("makes each node READY with its kubelet as runtime_reachable, and puts its labels and roles on the cluster's node", async () => {
    for (const id of ['node-1', 'node-2']) await until(id, 'READY', 30_000);
    const view = await nodes.get('node-1');
    expect(view.heartbeat?.conditions.find((c) => c.type === 'runtime_reachable')?.message).toContain('kubelet of Kubernetes node node-1: Ready');
    expect(view.heartbeat?.conditions.find((c) => c.type === 'clock_skew')?.message).toContain("the Kubernetes API server's clock");
    const n1 = await waitFor(
      'node-1 labelled',
      async () => {
        const n = await k8sNode('node-1');
        if (n.metadata.labels.zone === 'a' && n.metadata.labels['wharf.io/role-compute'] === 'true') return n;
        throw new Error(JSON.stringify(n.metadata.labels));
      },
      15_000,
      100,
    );
    expect(n1.spec.unschedulable).toBeUndefined();
    expect(n1.metadata.managedFields.map((f: Json) => [f.manager, f.operation])).toContainEqual(['wharf-node-manager', 'Apply']);
    // A label changed in Wharf follows; one taken away goes; the kubelet's own stay.
    await nodes.setLabels('node-1', { zone: 'a', disk: 'ssd' }, { actor: 'user:test' });
    await nodes.setRoles('node-1', ['manage', 'compute'], { actor: 'user:test' });
    const relabelled = await waitFor(
      'node-1 relabelled',
      async () => {
        const l = (await k8sNode('node-1')).metadata.labels;
        if (l.disk === 'ssd' && l['wharf.io/role-gateway'] === undefined) return l;
        throw new Error(JSON.stringify(l));
      },
      15_000,
      100,
    );
    expect(relabelled).toMatchObject({
      zone: 'a',
      disk: 'ssd',
      'wharf.io/role-manage': 'true',
      'wharf.io/role-compute': 'true',
      'kubernetes.io/hostname': 'node-1',
    });
  });

  it("spreads a component's 2 replicas over both nodes, and places one with a placement on the node carrying its labels", async () => {
    await driver.applyWorkload(workload('acme.shop.api', 2));
    await driver.applyWorkload(workload('acme.shop.pinned', 1, { zone: 'b' }));
    const spread = await readyPods('acme.shop.api', 2);
    expect(byNode(spread)).toEqual({ 'node-1': 1, 'node-2': 1 });
    const [pinned] = await readyPods('acme.shop.pinned', 1);
    expect(pinned.node).toBe('node-2');
    const deployment = (await cluster!.api<Json>('GET', `/apis/apps/v1/namespaces/${driver.namespace('acme')}/deployments`)).body.items.find(
      (d: Json) => d.metadata.labels[LABEL.componentId] === 'acme.shop.pinned',
    );
    expect(deployment.spec.template.spec.nodeSelector).toEqual({ zone: 'b' });
  });

  it('cordon: the node becomes unschedulable and new replicas go elsewhere; uncordon reverses it', async () => {
    await nodes.change('node-2', 'cordon', { reason: 'maintenance', actor: 'user:test' });
    await waitFor('node-2 unschedulable', async () => ((await k8sNode('node-2')).spec.unschedulable === true ? true : undefined), 15_000, 100);
    await driver.applyWorkload(workload('acme.shop.api', 3));
    const three = await readyPods('acme.shop.api', 3);
    // The running replica stays; the new one avoids the cordoned node.
    expect(byNode(three)).toEqual({ 'node-1': 2, 'node-2': 1 });
    await nodes.change('node-2', 'uncordon', { reason: 'done', actor: 'user:test' });
    // An applied `false` is the field's default: the API server leaves it out.
    await waitFor('node-2 schedulable', async () => ((await k8sNode('node-2')).spec.unschedulable !== true ? true : undefined), 15_000, 100);
  });

  it('a dead node (node-manager kill -9, kubelet stopped) is ERROR_DETECTED, drained, its replicas Ready on the other node, the component answers, then ERROR', async () => {
    const c = cluster!;
    const ns = driver.namespace('acme');
    const service = (await c.api<Json>('GET', `/api/v1/namespaces/${ns}/services`)).body.items.find(
      (s: Json) => s.spec.selector?.[LABEL.componentId] === 'acme.shop.api',
    );
    const url = `http://${service.spec.clusterIP}:8080/`;
    const get = () => fetch(url, { signal: AbortSignal.timeout(2000) }).then(async (r) => ({ status: r.status, body: (await r.text()).trim() }));
    expect(await waitFor(url, () => get().catch(() => undefined), 20_000, 200)).toEqual({ status: 200, body: 'v1' });

    await managers[1].stop('SIGKILL');
    await c.nodes[1].stopKubelet();
    // Within the lease TTL plus etcd's and the watch's delays (the bench measures it).
    const detected = await until('node-2', 'ERROR_DETECTED', TTL_S * 1000 + 10_000);
    expect(detected.transitions.at(-1)?.reason).toMatch(/heartbeat lease expired|no heartbeat/);
    await waitFor('node-2 cordoned by the drain', async () => ((await k8sNode('node-2')).spec.unschedulable === true ? true : undefined), 15_000, 100);
    // Every replica of both components Ready on node-1 (long before Kubernetes' own eviction of a lost node).
    const moved = await readyPods('acme.shop.api', 3, (list) => list.every((r) => r.node === 'node-1'));
    expect(byNode(moved)).toEqual({ 'node-1': 3 });
    expect(await waitFor(`${url} again`, () => get().catch(() => undefined), 20_000, 200)).toEqual({ status: 200, body: 'v1' });
    // The pinned one has nowhere to go (no other node has zone=b): it waits Pending, as its nodeSelector says.
    // Once the cluster sees node-2 NotReady its evicted pods are force-deleted: nothing of it is left, ERROR.
    const error = await until('node-2', 'ERROR', 60_000);
    expect(error.transitions.at(-1)).toMatchObject({ from: 'ERROR_DETECTED', action: 'migrated', to: 'ERROR' });
    const left = (await c.api<Json>('GET', `/api/v1/pods?fieldSelector=spec.nodeName=node-2`)).body.items as Json[];
    expect(left.map((p) => p.metadata.name)).toEqual([]);
    expect((await k8sNode('node-2')).spec.unschedulable).toBe(true);
  });
});
