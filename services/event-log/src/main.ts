import './threadpool';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { loadConfigOrExit } from '@wharf/config';
import { createEtcdClient, KeyLayout } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { createLogger, PinoNestLogger } from '@wharf/logging';
import { resolve } from 'node:path';
import { EventLogModule } from './app.module';
import { EtcdOwnership } from './cluster/etcd-ownership';
import { SoleOwnership } from './cluster/ownership';
import { eventLogConfigShape } from './config';
import { EventLogEngine } from './engine/event-log.engine';
import { StatusPublisher } from './engine/status-publisher';
import { FeedCatalog } from './feed/catalog';
import { EventLogGrpcService } from './grpc/eventlog.grpc';
import { EventLogMetrics } from './metrics';
import { claimPartitionCount, PartitionCountMismatch } from './storage/partition-count';
import { MemoryRuntimeLogCollector } from './runtime/runtime-log-collector';
import { EventLogGateway } from './ws/eventlog.gateway';
import { freeGrpcAddress } from './grpc/bind';

async function main(): Promise<void> {
  const config = loadConfigOrExit(eventLogConfigShape);
  const logger = createLogger('event-log', config.WHARF_LOG_LEVEL);
  const etcd = createEtcdClient({ endpoints: config.WHARF_ETCD_ENDPOINTS, maxReceiveMessageBytes: -1 });
  const keys = new KeyLayout(config.WHARF_ETCD_PREFIX);
  const store = new EtcdEventStore({ client: etcd, keys });

  try {
    await claimPartitionCount(resolve(config.WHARF_EVENTLOG_DATA_DIR), config.WHARF_EVENTLOG_PARTITIONS);
  } catch (err) {
    if (!(err instanceof PartitionCountMismatch)) throw err;
    logger.fatal(err.message);
    // 78 (EX_CONFIG), as for any other invalid setting.
    setTimeout(() => process.exit(78), 100);
    return;
  }

  // Feed first: who is who (tokens, tenants) and which operation belongs to which target.
  const catalog = new FeedCatalog();
  const started = Date.now();
  await catalog.start(store, (err) => {
    logger.fatal({ err }, 'event store feed failed');
    process.exit(1);
  });
  logger.info({ ms: Date.now() - started, position: catalog.position, operations: catalog.operations.size }, 'feed caught up');

  const metrics = new EventLogMetrics();
  // The gRPC port must be known before joining the cluster (peers forward to it).
  const grpcAddress = await freeGrpcAddress(config.WHARF_EVENTLOG_GRPC_ADDR);
  const advertised = config.WHARF_EVENTLOG_ADVERTISE_GRPC ?? grpcAddress;
  const ownership = config.WHARF_EVENTLOG_CLUSTER
    ? new EtcdOwnership(etcd, keys, { instance: config.WHARF_EVENTLOG_INSTANCE, grpc: advertised }, config.WHARF_EVENTLOG_PARTITIONS, config.WHARF_EVENTLOG_LEASE_TTL_S, logger)
    : new SoleOwnership(config.WHARF_EVENTLOG_PARTITIONS);
  const engine = new EventLogEngine(
    {
      dataDir: resolve(config.WHARF_EVENTLOG_DATA_DIR),
      partitions: config.WHARF_EVENTLOG_PARTITIONS,
      segmentBytes: config.WHARF_EVENTLOG_SEGMENT_BYTES,
      hotEntries: config.WHARF_EVENTLOG_HOT_ENTRIES,
      operationTimeoutMs: config.WHARF_EVENTLOG_OPERATION_TIMEOUT_MS,
      startTimeoutMs: config.WHARF_EVENTLOG_START_TIMEOUT_MS,
      retentionBytes: config.WHARF_EVENTLOG_RETENTION_BYTES,
      retentionMs: config.WHARF_EVENTLOG_RETENTION_HOURS * 3_600_000,
      sweepIntervalMs: config.WHARF_EVENTLOG_SWEEP_INTERVAL_MS,
      pageSize: 1000,
      onCommit: (ms, records) => {
        metrics.commit.observe(ms / 1000);
        metrics.commitRecords.inc(records);
      },
    },
    ownership,
    logger,
    catalog,
    config.WHARF_EVENTLOG_PUBLISH_STATUS ? new StatusPublisher(store) : undefined,
  );
  engine.onFatal = () => {
    // Crash-only: on restart the log is recovered from disk (torn tail cut); nothing acked is lost.
    setTimeout(() => process.exit(70), 100);
  };

  const runtimeLogs = new MemoryRuntimeLogCollector();
  const app = await NestFactory.create(
    EventLogModule.forRoot({
      engine,
      authenticator: catalog,
      runtimeLogs,
      metrics,
      grpcAddress,
      limits: { maxLineBytes: config.WHARF_EVENTLOG_MAX_LINE_BYTES, ratePerSec: config.WHARF_EVENTLOG_RATE_PER_SENDER, burst: config.WHARF_EVENTLOG_RATE_BURST },
      ws: {
        emitIntervalMs: config.WHARF_EVENTLOG_EMIT_INTERVAL_MS,
        emitMsPerMember: config.WHARF_EVENTLOG_EMIT_MS_PER_WATCHER,
        maxEmitIntervalMs: config.WHARF_EVENTLOG_MAX_EMIT_INTERVAL_MS,
        loadBatchMs: config.WHARF_EVENTLOG_LOAD_BATCH_MS,
        roomRecent: 2000,
        maxSubscriptionsPerSocket: 200,
      },
      logger,
      onShutdown: async () => {
        await engine.stop();
        await catalog.stop();
        etcd.close();
      },
    }),
    { logger: new PinoNestLogger(logger), forceCloseConnections: true },
  );
  app.useWebSocketAdapter(new IoAdapter(app));
  app.get(EventLogGateway).componentTenant = (id) => catalog.componentTenant.get(id);
  metrics.bindPartitions(() => engine.ownedPartitions().length);
  app.enableShutdownHooks();
  await app.listen(config.WHARF_HTTP_PORT, config.WHARF_HTTP_HOST);
  // Partitions are taken only once the servers answer: forwarded calls can reach us from then on.
  await engine.start();
  const httpPort = (app.getHttpServer().address() as { port: number }).port;
  const grpcPort = app.get(EventLogGrpcService).port;
  const host = grpcAddress.slice(0, grpcAddress.lastIndexOf(':'));
  logger.info({ grpc: `${host}:${grpcPort}`, http: `${config.WHARF_HTTP_HOST}:${httpPort}`, partitions: engine.ownedPartitions().length }, 'event-log listening');
  process.stdout.write(`event-log listening grpc=${host}:${grpcPort} http=${config.WHARF_HTTP_HOST}:${httpPort} instance=${config.WHARF_EVENTLOG_INSTANCE}\n`);
}

main().catch((err) => {
  process.stderr.write(`event-log failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
