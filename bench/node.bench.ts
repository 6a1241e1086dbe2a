// npm run bench -- node
// Node death to ERROR_DETECTED: several node-managers (one per node id) on one real etcd; each
// round kills one that is not the elected lease watcher (kill -9) and times from the kill to
// the ERROR_DETECTED event in its stream (the event's own time: same machine, same clock),
// then repairs it and brings it back. Baseline in the same run: a bare etcd lease of the same
// TTL, from its last keepalive to its key's delete event (what etcd alone takes).
// migrate_ms (all of a dead node's replicas ready elsewhere) needs the Kubernetes runtime: on
// one Docker host there is nowhere to move them, so it is null until that part exists.
// Target: detect_ms <= ttl_ms + 1000. BENCH_NODE_TTL_S (5), BENCH_NODE_ROUNDS (3), BENCH_NODES (3).
import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { NodeDirectory, nodeStream, type NodeStateName } from '@wharf/nodes';
import { ensureDockerEngine, startEtcd, startNodeManager, waitFor, type EtcdInstance, type RunningNodeManager } from '@wharf/testing';

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
    log('migrate_ms: null — moving replicas off a dead node needs the Kubernetes runtime (one Docker host has nowhere to move them)');
    process.stdout.write(
      `${JSON.stringify({
        bench: 'node',
        detect_ms: median(detect),
        migrate_ms: null,
        ttl_ms: TTL_S * 1000,
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
