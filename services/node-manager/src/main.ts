import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '@wharf/config';
import { createEtcdClient, KeyLayout } from '@wharf/etcd';
import { EventLogClient } from '@wharf/event-log-client';
import { EtcdEventStore } from '@wharf/event-store';
import { createLogger, PinoNestLogger } from '@wharf/logging';
import { consume, createMqClient } from '@wharf/mq-client';
import { NODE_STATES, NodeDirectory, nodeTaskTopic } from '@wharf/nodes';
import { transportSecurityOrExit } from '@wharf/pki';
import { BoundedExpressAdapter, httpLimitsFrom, Readiness, stopOnSignals } from '@wharf/service-kit';
import { systemClock } from '@wharf/system';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { KubernetesNodes } from '@wharf/runtime';
import { DockerEngine } from './adapters/docker-engine.adapter';
import { KubeletHealth } from './adapters/kubelet-health.adapter';
import { KubernetesNodeSync } from './adapters/kubernetes-node-sync';
import { HeartbeatLease } from './adapters/heartbeat.adapter';
import { LeaseWatcher } from './adapters/lease-watcher';
import { Machine } from './adapters/machine.adapter';
import { NodeAgent } from './agent/node-agent';
import { NodeManagerModule } from './app.module';
import { nodeManagerConfigShape } from './config';
import { NodeTaskRunner } from './tasks/node-task-runner';

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function main(): Promise<void> {
  const config = loadConfigOrExit(nodeManagerConfigShape);
  const logger = createLogger('node-manager', config.WHARF_LOG_LEVEL).child({ node: config.WHARF_NODE_ID });
  const security = transportSecurityOrExit(config, 'node-manager', (m) => logger.warn(m));
  const keys = new KeyLayout(config.WHARF_ETCD_PREFIX);
  const etcd = createEtcdClient({ endpoints: config.WHARF_ETCD_ENDPOINTS, security });
  // Its own client without retries: the etcd_reachable check fails as fast as etcd does.
  const probeEtcd = createEtcdClient({ endpoints: config.WHARF_ETCD_ENDPOINTS, security, maxAttempts: 0, dialTimeoutMs: 1000 });
  const store = new EtcdEventStore({ client: etcd, keys });
  const directory = new NodeDirectory(etcd, keys, store);
  const clock = systemClock;
  const nodeId = config.WHARF_NODE_ID;
  const onKubernetes = config.WHARF_RUNTIME === 'kubernetes';
  // On Kubernetes a failed node's replicas move (the watcher drains it), so ERROR waits for that.
  const policy = { failAfter: config.WHARF_NODE_FAIL_AFTER, migration: onKubernetes ? ('runtime' as const) : ('none' as const) };
  const engine = new DockerEngine(config.WHARF_DOCKER_SOCKET);
  const kube = onKubernetes ? new KubernetesNodes({ kubeconfigPath: config.WHARF_KUBECONFIG }) : undefined;
  const machine = new Machine(config.WHARF_NODE_DISK_PATH);
  const lease = new HeartbeatLease(etcd, keys, nodeId, config.WHARF_NODE_LEASE_TTL_S, logger);
  const agent = new NodeAgent(
    { nodeId, address: config.WHARF_NODE_ADDRESS, roles: config.WHARF_NODE_ROLES, labels: config.WHARF_NODE_LABELS, runtime: config.WHARF_RUNTIME },
    directory,
    lease,
    machine,
    kube ? new KubeletHealth(kube, nodeId) : engine,
    async () => void (await withTimeout(probeEtcd.get(keys.nodes.node(nodeId)).string(), 2000, 'etcd')),
    {
      reportMs: config.WHARF_NODE_REPORT_MS,
      thresholds: {
        diskPressurePct: config.WHARF_NODE_DISK_PRESSURE_PCT,
        memoryPressurePct: config.WHARF_NODE_MEMORY_PRESSURE_PCT,
        clockSkewMs: config.WHARF_NODE_CLOCK_SKEW_MS,
      },
      policy,
    },
    clock,
    logger,
  );
  await agent.start();

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'wharf_node_' });
  new Gauge({
    name: 'wharf_node_state',
    help: "1 for this node's lifecycle state as last read, 0 for the others",
    labelNames: ['state'],
    registers: [metrics],
    collect() {
      for (const s of NODE_STATES) this.set({ state: s }, agent.record?.state === s ? 1 : 0);
    },
  });
  new Gauge({
    name: 'wharf_node_condition_ok',
    help: 'Whether each health condition is ok (1) or failing (0)',
    labelNames: ['type'],
    registers: [metrics],
    collect() {
      for (const c of agent.conditions) this.set({ type: c.type }, c.ok ? 1 : 0);
    },
  });
  const detected = new Counter({
    name: 'wharf_node_leases_expired_total',
    help: 'Nodes this node-manager marked ERROR_DETECTED as the lease watcher',
    registers: [metrics],
  });
  const migrated = new Counter({
    name: 'wharf_node_drained_total',
    help: 'Kubernetes nodes this node-manager drained as the lease watcher (ERROR_DETECTED -> ERROR)',
    registers: [metrics],
  });
  const sync =
    kube && config.WHARF_NODE_WATCH
      ? new KubernetesNodeSync(
          directory,
          kube,
          { everyMs: config.WHARF_KUBE_SYNC_MS, drainEveryMs: config.WHARF_KUBE_DRAIN_MS, onMigrated: () => migrated.inc() },
          logger,
        )
      : undefined;
  // Every node change (a stream head under es/head/node/) makes the leader sync at once.
  const nodeChanges = sync ? await etcd.watch().prefix(keys.es.head('node/')).create() : undefined;
  nodeChanges?.on('put', () => sync?.kick());
  nodeChanges?.on('error', (err: Error) => logger.warn({ err: err.message }, 'node change watch failed; the periodic sync covers it'));
  const watcher = config.WHARF_NODE_WATCH
    ? new LeaseWatcher(
        etcd,
        keys,
        directory,
        {
          identity: nodeId,
          ttlS: config.WHARF_NODE_LEASE_TTL_S,
          policy,
          onDetected: () => {
            detected.inc();
            sync?.kick();
          },
          onLeading: (leading) => sync?.setActive(leading),
        },
        logger,
      )
    : undefined;
  watcher?.start();
  new Gauge({
    name: 'wharf_node_lease_watcher',
    help: 'Whether this node-manager is the elected lease watcher (1) or not (0)',
    registers: [metrics],
    collect() {
      this.set(watcher?.leading ? 1 : 0);
    },
  });

  // Node tasks: only with mq and event-log (their steps go there).
  const stopConsuming = new AbortController();
  let consumer: Promise<void> | undefined;
  let eventLog: EventLogClient | undefined;
  let mq: ReturnType<typeof createMqClient> | undefined;
  if (config.WHARF_MQ_ADDR && config.WHARF_EVENTLOG_ADDR) {
    eventLog = new EventLogClient({
      address: config.WHARF_EVENTLOG_ADDR,
      security,
      producer: `node-manager-${nodeId}-${process.pid}`,
      onWarning: (m) => logger.warn(m),
    });
    mq = createMqClient(config.WHARF_MQ_ADDR, security);
    const runner = new NodeTaskRunner(nodeId, config.WHARF_DATA_CENTER, directory, store, eventLog, engine, machine, agent, logger, kube);
    consumer = consume(mq, nodeTaskTopic(nodeId), (task) => runner.handle(task), {
      consumer: nodeId,
      signal: stopConsuming.signal,
      onError: (err, task) => logger.warn({ err: (err as Error)?.message ?? String(err), event_id: task?.eventId }, 'node task consumer'),
    });
  } else logger.warn('no WHARF_MQ_ADDR and WHARF_EVENTLOG_ADDR: this node takes no node tasks');

  const readiness = new Readiness().add(
    { name: 'etcd', check: () => (lease.healthy ? { ok: true } : { ok: false, detail: 'the last heartbeat did not reach etcd' }) },
    { name: 'registered', check: () => (agent.registered ? { ok: true, detail: agent.record?.state } : { ok: false, detail: 'not registered yet' }) },
  );
  const shutdown = async () => {
    stopConsuming.abort();
    await consumer;
    await watcher?.stop();
    await sync?.stop();
    await nodeChanges?.cancel().catch(() => undefined);
    await agent.stop();
    await eventLog?.close(3000);
    mq?.close();
    probeEtcd.close();
    etcd.close();
  };
  const app = await NestFactory.create(NodeManagerModule.forRoot({ readiness, metrics, agent, shutdown }), new BoundedExpressAdapter(httpLimitsFrom(config)), {
    logger: new PinoNestLogger(logger),
  });
  stopOnSignals(app, { logger, readiness });
  await app.listen(config.WHARF_HTTP_PORT, config.WHARF_HTTP_HOST);
  const httpPort = (app.getHttpServer().address() as { port: number }).port;
  logger.info({ http: `${config.WHARF_HTTP_HOST}:${httpPort}`, state: agent.record?.state }, 'node-manager listening');
  // One plain line for humans and for tests that wait on it.
  process.stdout.write(`node-manager listening http=${config.WHARF_HTTP_HOST}:${httpPort} node=${nodeId}\n`);
}

main().catch((err) => {
  process.stderr.write(`node-manager failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
