// npm run bench -- node
// Node death to ERROR_DETECTED: several node-managers (one per node id) on one real etcd; each
// round kills one that is not the elected lease watcher (kill -9) and times from the kill to
// the ERROR_DETECTED event in its stream (the event's own time: same machine, same clock),
// then repairs it and brings it back. Baseline in the same run: a bare etcd lease of the same
// TTL, from its last keepalive to its key's delete event (what etcd alone takes).
// migrate_ms: a real two-node Kubernetes 1.20 cluster (@wharf/testing), a node-manager per node
// (WHARF_RUNTIME=kubernetes; node-1's is the watcher), a 2-replica component spread over both
// nodes; node-2 dies (its node-manager kill -9, then its kubelet SIGKILL) and the time runs from
// the kill to every replica Ready on node-1 (pods polled every 100 ms; k8s_detect_ms is the same
// death's ERROR_DETECTED). Kubernetes alone would wait for NotReady and its eviction toleration
// (5 min by default). BENCH_NODE_KUBERNETES=0 skips it (migrate_ms null).
// Target: detect_ms <= ttl_ms + 1000, migrate_ms < 15000. BENCH_NODE_TTL_S (5), BENCH_NODE_ROUNDS (3), BENCH_NODES (3).
import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { NodeDirectory, nodeStream, type NodeStateName } from '@wharf/nodes';
import { KubernetesDriver, type WorkloadSpec } from '@wharf/runtime';
import {
  dockerClient,
  ensureDockerEngine,
  httpTestImage,
  startEtcd,
  startKubernetesCluster,
  startNodeManager,
  waitFor,
  type EtcdInstance,
  type KubernetesCluster,
  type RunningNodeManager,
} from '@wharf/testing';

const TTL_S = Number(process.env.BENCH_NODE_TTL_S ?? 5);
const ROUNDS = Number(process.env.BENCH_NODE_ROUNDS ?? 3);
const NODES = Math.max(2, Number(process.env.BENCH_NODES ?? 3));
const log = (msg: string) => process.stderr.write(`${msg}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function leaseExpiryMs(client: Etcd3): Promise<number> {
  const lease = client.lease(TTL_S, { autoKeepAlive: false });
  await lease.grant();
  const key = `/bench/node/lease-${Date.now()}`;
  await lease.put(key).value('x');
  const watcher = await client.watch().key(key).create();
  const deleted = new Promise<number>((resolve) => watcher.on('delete', () => resolve(Date.now())));
  await lease.keepaliveOnce();
  const last = Date.now();
  const at = await Promise.race([deleted, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('lease never expired')), TTL_S * 3000))]);
  await watcher.cancel();
  return at - last;
}

function benchWorkload(dataCenter: string, image: string): WorkloadSpec {
  return {
    template: {
      labels: { dataCenter, tenantId: 'bench', appId: 'bench.app', componentId: 'bench.app.web', versionId: 'v1', template: 'bench1' },
      names: { tenant: 'bench', app: 'app', component: 'web' },
      image,
      env: [],
      cpuMillis: 50,
      memoryMib: 16,
      ports: [{ port: 8080, protocol: 'http' }],
      volumes: [],
      aliases: ['web.app'],
      stopGraceMs: 1000,
    },
    replicas: 2,
    stateful: false,
    maxSurge: 1,
    maxUnavailable: 0,
    paused: false,
    readiness: { kind: 'http', path: '/', port: 8080, command: [], initialDelayMs: 0, periodMs: 1000, failureThreshold: 2 },
    generation: 0,
    progressDeadlineMs: 60_000,
  };
}

/** One real node death on Kubernetes: ms from the kill to ERROR_DETECTED and to every replica Ready on the other node. */
async function migrateRound(): Promise<{ detectMs: number; migrateMs: number; errorMs: number }> {
  const image = `wharf-test/bench-node-${process.pid}:v1`;
  const dataCenter = `bn${process.pid}`;
  let cluster: KubernetesCluster | undefined;
  const managers: RunningNodeManager[] = [];
  // A data center of its own: the Docker rounds' node-managers (runtime docker) must not be its watcher.
  const etcd = await startEtcd();
  const client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  const store = new EtcdEventStore({ client, keys: new KeyLayout() });
  const nodes = new NodeDirectory(client, new KeyLayout(), store);
  try {
    await httpTestImage(dockerClient(), image, 'v1');
    cluster = await startKubernetesCluster({ nodes: 2 });
    log(`kubernetes: two nodes Ready in ${cluster.timings.totalMs} ms`);
    await cluster.importImage(image);
    const env = {
      WHARF_RUNTIME: 'kubernetes',
      WHARF_KUBECONFIG: cluster.kubeconfigPath,
      WHARF_NODE_LEASE_TTL_S: String(TTL_S),
      WHARF_NODE_REPORT_MS: '1000',
      WHARF_DATA_CENTER: dataCenter,
    };
    managers.push(await startNodeManager(etcd, 'node-1', env));
    managers.push(await startNodeManager(etcd, 'node-2', { ...env, WHARF_NODE_WATCH: 'false' }));
    for (const id of ['node-1', 'node-2'])
      await waitFor(`${id} READY`, async () => ((await nodes.record(id))?.state === 'READY' ? true : undefined), 60_000, 100);
    const driver = new KubernetesDriver({ dataCenter, kubeconfigPath: cluster.kubeconfigPath });
    await driver.applyWorkload(benchWorkload(dataCenter, image));
    const spread = await waitFor(
      'two ready replicas, one per node',
      async () => {
        const list = (await driver.listReplicas({ componentId: 'bench.app.web' })).filter((r) => r.phase !== 'removing');
        return list.length === 2 && list.every((r) => r.ready) && new Set(list.map((r) => r.node)).size === 2 ? list : undefined;
      },
      90_000,
      200,
    );
    log(`kubernetes: replicas on ${spread.map((r) => r.node).join(', ')}`);
    const from = (await nodes.record('node-2'))!.version;
    const killed = Date.now();
    await managers[1].stop('SIGKILL');
    await cluster.nodes[1].stopKubelet();
    const moved = await waitFor(
      'every replica Ready on node-1',
      async () => {
        const list = (await driver.listReplicas({ componentId: 'bench.app.web' })).filter((r) => r.phase !== 'removing');
        return list.length === 2 && list.every((r) => r.ready && r.node === 'node-1') ? Date.now() : undefined;
      },
      120_000,
      100,
    );
    const migrateMs = moved - killed;
    await waitFor('node-2 ERROR', async () => ((await nodes.record('node-2'))?.state === 'ERROR' ? true : undefined), 120_000, 100);
    const events = await store.read(nodeStream('node-2'), from + 1);
    const at = (action: string) => events.find((e) => (e.message as { action?: string }).action === action)!.timeMs - killed;
    return { detectMs: at('fail'), migrateMs, errorMs: at('migrated') };
  } finally {
    for (const nm of managers) await nm.stop('SIGKILL').catch(() => undefined);
    client.close();
    await etcd.destroy();
    await cluster?.stop();
    await dockerClient()
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
  }
}

async function main(): Promise<void> {
  // The nodes' runtime_reachable check pings the Docker Engine: the machine's, or one started (and stopped) here.
  const engine = await ensureDockerEngine();
  const etcd: EtcdInstance = await startEtcd();
  const client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  const store = new EtcdEventStore({ client, keys: new KeyLayout() });
  const nodes = new NodeDirectory(client, new KeyLayout(), store);
  const env = { WHARF_NODE_LEASE_TTL_S: String(TTL_S), WHARF_NODE_REPORT_MS: '1000', WHARF_DATA_CENTER: `bench-node-${process.pid}` };
  const running = new Map<string, RunningNodeManager>();
  const until = (id: string, state: NodeStateName, timeoutMs = 30_000) =>
    waitFor(`${id} ${state}`, async () => ((await nodes.record(id))?.state === state ? true : undefined), timeoutMs, 50);
  try {
    for (let i = 1; i <= NODES; i++) running.set(`b${i}`, await startNodeManager(etcd, `b${i}`, env));
    for (const id of running.keys()) await until(id, 'READY');
    log(`${NODES} nodes READY (lease TTL ${TTL_S} s)`);
    const detect: number[] = [];
    const baseline: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      baseline.push(await leaseExpiryMs(client));
      let victim: RunningNodeManager | undefined;
      for (const nm of running.values()) {
        const text = await (await fetch(`${nm.url}/metrics`)).text();
        if (!/^wharf_node_lease_watcher 1$/m.test(text)) victim = nm;
      }
      if (!victim) throw new Error('every node-manager says it is the watcher');
      const from = (await nodes.record(victim.nodeId))!.version;
      const killed = Date.now();
      await victim.stop('SIGKILL');
      await until(victim.nodeId, 'ERROR', TTL_S * 1000 + 15_000);
      const failed = (await store.read(nodeStream(victim.nodeId), from + 1)).find((e) => (e.message as { action?: string }).action === 'fail')!;
      detect.push(failed.timeMs - killed);
      log(`round ${round}: ${victim.nodeId} killed -> ERROR_DETECTED in ${failed.timeMs - killed} ms (bare lease expiry ${baseline[baseline.length - 1]} ms)`);
      // Back for the next round: repaired by an administrator, its node-manager started again.
      await nodes.change(victim.nodeId, 'repair', { reason: 'bench', actor: 'user:bench' });
      running.set(victim.nodeId, await startNodeManager(etcd, victim.nodeId, env));
      await until(victim.nodeId, 'READY');
    }
    let k8s: { detectMs: number; migrateMs: number; errorMs: number } | undefined;
    if (process.env.BENCH_NODE_KUBERNETES !== '0') {
      k8s = await migrateRound();
      log(
        `kubernetes: node-2 killed -> ERROR_DETECTED in ${k8s.detectMs} ms, its replicas Ready on node-1 in ${k8s.migrateMs} ms, node ERROR (drained) in ${k8s.errorMs} ms`,
      );
    } else log('migrate_ms: null (BENCH_NODE_KUBERNETES=0)');
    process.stdout.write(
      `${JSON.stringify({
        bench: 'node',
        detect_ms: median(detect),
        migrate_ms: k8s?.migrateMs ?? null,
        ttl_ms: TTL_S * 1000,
        k8s_detect_ms: k8s?.detectMs ?? null,
        k8s_error_ms: k8s?.errorMs ?? null,
        detect_max_ms: Math.max(...detect),
        lease_expiry_ms: median(baseline),
        rounds: ROUNDS,
        nodes: NODES,
      })}\n`,
    );
  } finally {
    for (const nm of running.values()) await nm.stop('SIGKILL').catch(() => undefined);
    client.close();
    await etcd.destroy();
    await engine.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench node failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
