import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfigOrExit } from '@wharf/config';
import { appmanagerV1 } from '@wharf/contracts';
import { createEtcdClient, etcdMutex, KeyLayout } from '@wharf/etcd';
import { EventLogClient } from '@wharf/event-log-client';
import { EtcdEventStore, Projection, type RecordedEvent } from '@wharf/event-store';
import { GrpcServer } from '@wharf/grpc';
import { createLogger, PinoNestLogger } from '@wharf/logging';
import { transportSecurityOrExit } from '@wharf/pki';
import { consume, createMqClient } from '@wharf/mq-client';
import { NodeDirectory } from '@wharf/nodes';
import { DockerDriver, KubernetesDriver, type KubernetesDriverOptions, type RuntimeDriver } from '@wharf/runtime';
import { SecretBox } from '@wharf/secrets';
import { BoundedExpressAdapter, httpLimitsFrom, Readiness, stopOnSignals } from '@wharf/service-kit';
import { systemClock } from '@wharf/system';
import { TASK_CONSUMER, TASK_KINDS, topicOf } from '@wharf/tasks';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { EventLogNarrator } from './adapters/operation-narrator';
import { EtcdOwnership } from './adapters/ownership';
import { NetworkProbeExecutor, ProbeRunner } from './adapters/probe-runner';
import { EtcdPublisher } from './adapters/status-publisher';
import { AppManagerModule } from './app.module';
import { appManagerConfigShape } from './config';
import { fleetProjection, type Fleet } from './domain/fleet';
import { appManagerService } from './grpc/app-manager.grpc';
import { Reconciler } from './reconciler/reconciler';
import { TaskHandler } from './tasks/task-handler';
import { NodePlacement } from './adapters/node-placement';

function secretKey(config: { WHARF_SECRET_KEY?: string; WHARF_DEV_MODE: boolean }, warn: (m: string) => void): Buffer {
  try {
    if (config.WHARF_SECRET_KEY) return SecretBox.parseKey(config.WHARF_SECRET_KEY);
    if (config.WHARF_DEV_MODE) {
      warn('WHARF_DEV_MODE: no WHARF_SECRET_KEY, so components with secret env cannot start');
      return randomBytes(32);
    }
    throw new Error('missing (the key api-gateway seals secret env with; required outside WHARF_DEV_MODE=1)');
  } catch (err) {
    process.stderr.write(`${new ConfigError([`WHARF_SECRET_KEY: ${(err as Error).message}; expected 64 hex characters or base64 of 32 bytes`]).message}\n`);
    process.exit(78);
  }
}

function registryAuth(file: string | undefined, registry: string | undefined) {
  if (!file || !registry) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    process.stderr.write(`${new ConfigError([`WHARF_REGISTRY_CREDENTIALS_FILE: cannot read ${file}: ${(err as Error).message}`]).message}\n`);
    process.exit(78);
  }
  const colon = text.indexOf(':');
  if (colon <= 0) {
    process.stderr.write(`${new ConfigError([`WHARF_REGISTRY_CREDENTIALS_FILE: ${file} must hold user:password`]).message}\n`);
    process.exit(78);
  }
  return { username: text.slice(0, colon), password: text.slice(colon + 1), serveraddress: registry };
}

/** The kubernetes driver, or exit naming WHARF_KUBECONFIG when the cluster's config cannot be read. */
function kubernetesDriver(
  config: {
    WHARF_DATA_CENTER: string;
    WHARF_KUBECONFIG?: string;
    WHARF_KUBERNETES_NAME_PREFIX: string;
    WHARF_KUBERNETES_GATEWAY_CIDRS: string[];
    WHARF_KUBERNETES_STORAGE_CLASS?: string;
    WHARF_KUBERNETES_CLUSTER_DOMAIN?: string;
    WHARF_PULL_REGISTRIES: string[];
  },
  pullAuth: KubernetesDriverOptions['registryAuth'],
): KubernetesDriver {
  try {
    return new KubernetesDriver({
      dataCenter: config.WHARF_DATA_CENTER,
      kubeconfigPath: config.WHARF_KUBECONFIG,
      namePrefix: config.WHARF_KUBERNETES_NAME_PREFIX,
      gatewayCidrs: config.WHARF_KUBERNETES_GATEWAY_CIDRS,
      storageClass: config.WHARF_KUBERNETES_STORAGE_CLASS,
      clusterDomain: config.WHARF_KUBERNETES_CLUSTER_DOMAIN,
      registryAuth: pullAuth,
      pullRegistries: config.WHARF_PULL_REGISTRIES,
    });
  } catch (err) {
    const where = config.WHARF_KUBECONFIG ? `cannot load ${config.WHARF_KUBECONFIG}` : 'unset, and this is not a pod with a service account';
    process.stderr.write(`${new ConfigError([`WHARF_KUBECONFIG: ${where}: ${(err as Error).message}`]).message}\n`);
    process.exit(78);
  }
}

/** Events after which a component's dependants may have to roll (their env names its ports). */
const MOVES_DEPENDANTS = new Set(['wharf.events.v1.VersionDeployed', 'wharf.events.v1.ComponentRetired', 'wharf.events.v1.ComponentCreated']);

async function main(): Promise<void> {
  const config = loadConfigOrExit(appManagerConfigShape);
  const logger = createLogger('app-manager', config.WHARF_LOG_LEVEL);
  const security = transportSecurityOrExit(config, 'app-manager', (m) => logger.warn(m));
  const secrets = new SecretBox(secretKey(config, (m) => logger.warn(m)));
  const instance =
    config.WHARF_APPMGR_INSTANCE ??
    `${hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 40)}-${process.pid}`;
  const etcd = createEtcdClient({ endpoints: config.WHARF_ETCD_ENDPOINTS, security });
  const keys = new KeyLayout(config.WHARF_ETCD_PREFIX);
  const store = new EtcdEventStore({ client: etcd, keys });
  const clock = systemClock;
  const mutex = etcdMutex(etcd);
  const pullAuth = registryAuth(config.WHARF_REGISTRY_CREDENTIALS_FILE, config.WHARF_PULL_REGISTRIES[0]);
  const driver: RuntimeDriver =
    config.WHARF_RUNTIME === 'kubernetes'
      ? kubernetesDriver(config, pullAuth)
      : new DockerDriver({
          exclusive: (key, work) => mutex(keys.locks.key(key), work),
          socketPath: config.WHARF_DOCKER_SOCKET,
          dataCenter: config.WHARF_DATA_CENTER,
          namePrefix: config.WHARF_DOCKER_NAME_PREFIX,
          pullRegistries: config.WHARF_PULL_REGISTRIES,
          registryAuth: pullAuth,
          publishHost: config.WHARF_DOCKER_PUBLISH_HOST,
        });
  const eventLog = new EventLogClient({ address: config.WHARF_EVENTLOG_ADDR, security, producer: `app-manager-${instance}`, onWarning: (m) => logger.warn(m) });
  const narrator = new EventLogNarrator(eventLog);

  // The fold of every component stream; once caught up, each new event nudges the reconciler.
  const hooks: { onEvent?: (e: RecordedEvent, fleet: Fleet) => void; onHealth?: (componentId: string) => void } = {};
  const projection = new Projection(store, {
    ...fleetProjection,
    apply: (state, event) => {
      state.apply(event);
      hooks.onEvent?.(event, state);
      return state;
    },
  });
  await projection.start();

  const settings = {
    dataCenter: config.WHARF_DATA_CENTER,
    maxSurge: config.WHARF_APPMGR_MAX_SURGE,
    maxUnavailable: config.WHARF_APPMGR_MAX_UNAVAILABLE,
    minReadyMs: config.WHARF_APPMGR_MIN_READY_MS,
    progressDeadlineMs: config.WHARF_APPMGR_PROGRESS_DEADLINE_MS,
    drainMs: config.WHARF_APPMGR_DRAIN_MS,
    stopGraceMs: config.WHARF_APPMGR_STOP_GRACE_MS,
    backoffBaseMs: config.WHARF_APPMGR_BACKOFF_BASE_MS,
    backoffMaxMs: config.WHARF_APPMGR_BACKOFF_MAX_MS,
    backoffResetMs: 60_000,
    resyncMs: config.WHARF_APPMGR_RESYNC_MS,
    crashLines: 5,
  };
  const ownership = new EtcdOwnership(
    etcd,
    keys,
    { instance, grpc: config.WHARF_APPMGR_GRPC_ADDR },
    config.WHARF_APPMGR_SLOTS,
    config.WHARF_APPMGR_LEASE_TTL_S,
    logger,
  );
  // The probe runner reports to the reconciler, which needs the runner: a hook breaks the circle.
  const probes = new ProbeRunner(new NetworkProbeExecutor(driver, clock, settings.minReadyMs), clock, (t) => hooks.onHealth?.(t.componentId));
  const reconciler = new Reconciler({
    driver,
    fleet: () => projection.state,
    store,
    secrets,
    probes,
    narrator,
    publisher: new EtcdPublisher(etcd, keys, driver.kind),
    ownership,
    clock,
    logger,
    settings,
  });
  hooks.onHealth = (componentId) => reconciler.nudge(componentId);
  hooks.onEvent = (e, fleet) => {
    const id = e.stream.slice('component/'.length);
    reconciler.nudge(id);
    if (MOVES_DEPENDANTS.has(e.type)) {
      const appId = fleet.get(id)?.appId;
      for (const c of fleet.components.values()) if (c.appId === appId && c.id !== id && c.spec.dependsOn.length) reconciler.nudge(c.id);
    }
  };

  const grpc = new GrpcServer({ security, logger });
  grpc.add(appmanagerV1.AppManagerService, appManagerService({ reconciler, etcd, keys, driver }));
  const grpcPort = await grpc.listen(config.WHARF_APPMGR_GRPC_ADDR);

  await ownership.start({
    acquired: (slot) => {
      for (const id of projection.state.components.keys()) if (ownership.slotOf(id) === slot) reconciler.nudge(id);
      void reconciler.sweep();
    },
    released: (slot) => reconciler.release(slot),
  });
  reconciler.start();

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'wharf_appmgr_' });
  const tasksTotal = new Counter({
    name: 'wharf_appmgr_tasks_total',
    help: 'tasks taken from mq, by kind and result',
    labelNames: ['kind', 'result'],
    registers: [metrics],
  });
  const handler = new TaskHandler(
    store,
    projection,
    narrator,
    { maxSurge: settings.maxSurge, maxUnavailable: settings.maxUnavailable, maxReplicas: config.WHARF_APPMGR_MAX_REPLICAS },
    logger,
    new NodePlacement(new NodeDirectory(etcd, keys, store)),
  );
  const mq = createMqClient(config.WHARF_MQ_ADDR, security);
  const stopConsuming = new AbortController();
  const consumers = TASK_KINDS.filter((k) => TASK_CONSUMER[k] === 'app-manager').map((kind) =>
    consume(
      mq,
      topicOf(kind),
      async (task) => {
        try {
          await handler.handle(task);
          tasksTotal.inc({ kind, result: 'ok' });
        } catch (err) {
          tasksTotal.inc({ kind, result: 'retry' });
          throw err;
        }
      },
      {
        consumer: instance,
        leaseMs: config.WHARF_APPMGR_TASK_LEASE_MS,
        concurrency: config.WHARF_APPMGR_TASK_CONCURRENCY,
        signal: stopConsuming.signal,
        onError: (err, task) => logger.warn({ err: (err as Error)?.message ?? String(err), event_id: task?.eventId, topic: kind }, 'task consumer'),
      },
    ),
  );

  const readiness = new Readiness().add(
    {
      name: 'etcd',
      async check() {
        await etcd.maintenance.status();
        return { ok: true };
      },
    },
    {
      name: 'runtime',
      async check() {
        await driver.ping();
        return { ok: true };
      },
    },
  );
  const shutdown = async () => {
    stopConsuming.abort();
    await Promise.allSettled(consumers);
    await reconciler.stop();
    probes.stop();
    await ownership.stop();
    await grpc.shutdown(3000);
    await projection.stop();
    await eventLog.close(5000);
    mq.close();
    etcd.close();
  };
  const app = await NestFactory.create(AppManagerModule.forRoot({ readiness, metrics, shutdown }), new BoundedExpressAdapter(httpLimitsFrom(config)), {
    logger: new PinoNestLogger(logger),
  });
  stopOnSignals(app, { logger, readiness, graceMs: 20_000 });
  await app.listen(config.WHARF_HTTP_PORT, config.WHARF_HTTP_HOST);
  const httpPort = (app.getHttpServer().address() as { port: number }).port;
  const host = config.WHARF_APPMGR_GRPC_ADDR.slice(0, config.WHARF_APPMGR_GRPC_ADDR.lastIndexOf(':'));
  logger.info(
    { grpc: `${host}:${grpcPort}`, http: `${config.WHARF_HTTP_HOST}:${httpPort}`, instance, data_center: config.WHARF_DATA_CENTER },
    'app-manager listening',
  );
  process.stdout.write(`app-manager listening grpc=${host}:${grpcPort} http=${config.WHARF_HTTP_HOST}:${httpPort} instance=${instance}\n`);
}

main().catch((err) => {
  process.stderr.write(`app-manager failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
