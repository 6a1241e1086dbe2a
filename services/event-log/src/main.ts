import './threadpool';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { ConfigError, loadConfigOrExit } from '@wharf/config';
import { createEtcdClient, KeyLayout } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { createLogger, PinoNestLogger } from '@wharf/logging';
import { transportSecurityOrExit } from '@wharf/pki';
import { systemClock } from '@wharf/system';
import { BoundedExpressAdapter, httpLimitsFrom, Readiness, stopOnSignals } from '@wharf/service-kit';
import { resolve } from 'node:path';
import { FeedCatalog } from './adapters/feed/feed-catalog.adapter';
import { DockerDriver, DriverLogCollector, KubernetesDriver, type RuntimeDriver } from '@wharf/runtime';
import { MemoryRuntimeLogCollector } from './adapters/runtime-logs/runtime-log-collector';
import { claimPartitionCount, isPartitionCountMismatch } from './adapters/storage/partition-count';
import { EventLogModule } from './app.module';
import { eventLogConfigShape } from './config';
import { EventLogMetrics } from './metrics';
import { engineReadiness } from './threads/engine-readiness';
import { startIngestThread } from './threads/ingest-thread';

async function main(): Promise<void> {
  const config = loadConfigOrExit(eventLogConfigShape);
  const logger = createLogger('event-log', config.WHARF_LOG_LEVEL);
  const security = transportSecurityOrExit(config, 'event-log', (m) => logger.warn(m));
  const etcd = createEtcdClient({ endpoints: config.WHARF_ETCD_ENDPOINTS, security, maxReceiveMessageBytes: -1 });
  const keys = new KeyLayout(config.WHARF_ETCD_PREFIX);
  const store = new EtcdEventStore({ client: etcd, keys });

  let partitions: number;
  try {
    partitions = await claimPartitionCount(resolve(config.WHARF_EVENTLOG_DATA_DIR), config.WHARF_EVENTLOG_PARTITIONS);
  } catch (err) {
    if (!isPartitionCountMismatch(err)) throw err;
    logger.fatal(err.message);
    // 78 (EX_CONFIG), as for any other invalid setting.
    setTimeout(() => process.exit(78), 100);
    return;
  }

  // gRPC ingest, storage and partitions run on their own thread; this one serves HTTP and
  // socket.io, so the fan-out to live subscribers never waits behind ingest work. Each thread
  // folds the feed itself (this one for who is who: tokens, tenants, component owners); the
  // two catch up at the same time.
  const catalog = new FeedCatalog();
  const clock = systemClock;
  const started = clock.now();
  const [ingest] = await Promise.all([
    startIngestThread({ ...config, WHARF_EVENTLOG_PARTITIONS: partitions }, logger, (_message, exitCode) => {
      setTimeout(() => process.exit(exitCode), 100);
    }),
    catalog
      .start(store, (err) => {
        logger.fatal({ err }, 'event store feed failed');
        process.exit(1);
      })
      .then(() => logger.info({ ms: clock.now() - started, position: catalog.position }, 'feed caught up')),
  ]);

  const metrics = new EventLogMetrics();
  ingest.operations.onHandoff = (seconds) => metrics.handoff.observe(seconds);
  metrics.bindReadiness(engineReadiness(ingest.operations));
  // Replicas' stdout/stderr straight from the runtime app-manager runs them on.
  const logDriver = (): RuntimeDriver => {
    if (config.WHARF_RUNTIME_LOGS === 'docker') return new DockerDriver({ socketPath: config.WHARF_DOCKER_SOCKET, dataCenter: config.WHARF_DATA_CENTER });
    try {
      return new KubernetesDriver({
        dataCenter: config.WHARF_DATA_CENTER,
        kubeconfigPath: config.WHARF_KUBECONFIG,
        namePrefix: config.WHARF_KUBERNETES_NAME_PREFIX,
      });
    } catch (err) {
      process.stderr.write(`${new ConfigError([`WHARF_KUBECONFIG: cannot load the cluster's config: ${(err as Error).message}`]).message}\n`);
      process.exit(78);
    }
  };
  const runtimeLogs =
    config.WHARF_RUNTIME_LOGS === 'none'
      ? new MemoryRuntimeLogCollector(clock)
      : new DriverLogCollector(logDriver(), {
          onWarning: (message, err) => logger.warn({ err: err instanceof Error ? err.message : undefined }, message),
        });
  const readiness = new Readiness();
  const app = await NestFactory.create(
    EventLogModule.forRoot({
      readiness,
      operations: ingest.operations,
      ingestMetrics: () => ingest.metrics(),
      authenticator: catalog,
      componentTenants: (id) => catalog.componentTenant.get(id),
      runtimeLogs,
      metrics,
      ws: {
        emitIntervalMs: config.WHARF_EVENTLOG_EMIT_INTERVAL_MS,
        emitMsPerMember: config.WHARF_EVENTLOG_EMIT_MS_PER_WATCHER,
        maxEmitIntervalMs: config.WHARF_EVENTLOG_MAX_EMIT_INTERVAL_MS,
        loadBatchMs: config.WHARF_EVENTLOG_LOAD_BATCH_MS,
        directFrames: config.WHARF_EVENTLOG_DIRECT_FRAMES,
        roomRecent: 200,
        maxSubscriptionsPerSocket: 200,
      },
      logger,
      onShutdown: async () => {
        await ingest.stop();
        await catalog.stop();
        etcd.close();
      },
    }),
    new BoundedExpressAdapter(httpLimitsFrom(config)),
    { logger: new PinoNestLogger(logger), forceCloseConnections: true },
  );
  app.useWebSocketAdapter(new IoAdapter(app));
  stopOnSignals(app, { logger, readiness });
  await app.listen(config.WHARF_HTTP_PORT, config.WHARF_HTTP_HOST);
  // Partitions are taken only once both servers answer: forwarded calls can reach us from then on.
  const owned = await ingest.start();
  const httpPort = (app.getHttpServer().address() as { port: number }).port;
  logger.info({ grpc: ingest.grpc, http: `${config.WHARF_HTTP_HOST}:${httpPort}`, partitions: owned, of: partitions }, 'event-log listening');
  process.stdout.write(`event-log listening grpc=${ingest.grpc} http=${config.WHARF_HTTP_HOST}:${httpPort} instance=${config.WHARF_EVENTLOG_INSTANCE}\n`);
}

main().catch((err) => {
  process.stderr.write(`event-log failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
