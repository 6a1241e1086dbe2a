// The ingest thread: gRPC ingest, storage, partitions, final status and publishing. It runs
// beside the main thread (HTTP and socket.io fan-out) so that live subscribers never queue
// behind ingest work, group-commit completions or its garbage collection (one heap each).
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { createEtcdClient, KeyLayout } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { createLogger, PinoNestLogger } from '@wharf/logging';
import { transportSecurityFromConfig } from '@wharf/pki';
import { systemClock } from '@wharf/system';
import { resolve } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { EventStoreStatusPublisher } from '../adapters/event-store/status-publisher.adapter';
import { FeedCatalog } from '../adapters/feed/feed-catalog.adapter';
import { etcdOwnership } from '../adapters/ownership/etcd-ownership.adapter';
import { SoleOwnership } from '../adapters/ownership/ownership';
import { grpcPeers } from '../adapters/peers/grpc-peer.adapter';
import { partitionOpener } from '../adapters/storage/partition-opener';
import { EventLogEngine } from '../engine/event-log.engine';
import { freeGrpcAddress } from '../grpc/bind';
import { EventLogGrpcService } from '../grpc/eventlog.grpc';
import { EventLogMetrics } from '../metrics';
import { IngestModule } from './ingest.module';
import { isControl, type FromIngestControl, type IngestThreadData, type ToIngestControl } from './ingest-protocol';
import { serveOperationLog } from './operation-log-bridge';

const port = parentPort!;
const tell = (m: FromIngestControl) => port.postMessage(m);

async function run(): Promise<void> {
  const { config } = workerData as IngestThreadData;
  const logger = createLogger('event-log', config.WHARF_LOG_LEVEL).child({ thread: 'ingest' });
  // Read again here (Buffers do not cross to a thread as Buffers); the main thread checked them and warned.
  const security = transportSecurityFromConfig(config, 'event-log', () => undefined);
  const clock = systemClock;
  const etcd = createEtcdClient({ endpoints: config.WHARF_ETCD_ENDPOINTS, security, maxReceiveMessageBytes: -1 });
  const keys = new KeyLayout(config.WHARF_ETCD_PREFIX);
  const store = new EtcdEventStore({ client: etcd, keys });

  // Which operation belongs to which target and tenant, requests nothing reported on yet.
  const catalog = new FeedCatalog();
  const started = clock.now();
  await catalog.start(store, (err) => {
    logger.fatal({ err }, 'event store feed failed');
    tell({ t: 'fatal', message: `event store feed failed: ${err.message}`, exitCode: 1 });
  });
  logger.info({ ms: clock.now() - started, position: catalog.position, operations: catalog.operations.size }, 'feed caught up');

  // Process-wide default metrics are collected by the main thread.
  const metrics = new EventLogMetrics({ defaultMetrics: false });
  // The gRPC port must be known before joining the cluster (peers forward to it).
  const grpcAddress = await freeGrpcAddress(config.WHARF_EVENTLOG_GRPC_ADDR);
  const advertised = config.WHARF_EVENTLOG_ADVERTISE_GRPC ?? grpcAddress;
  const ownership = config.WHARF_EVENTLOG_CLUSTER
    ? etcdOwnership(
        etcd,
        keys,
        { instance: config.WHARF_EVENTLOG_INSTANCE, grpc: advertised },
        config.WHARF_EVENTLOG_PARTITIONS,
        config.WHARF_EVENTLOG_LEASE_TTL_S,
        logger,
      )
    : new SoleOwnership(config.WHARF_EVENTLOG_PARTITIONS);
  const engine = new EventLogEngine({
    options: {
      partitions: config.WHARF_EVENTLOG_PARTITIONS,
      operationTimeoutMs: config.WHARF_EVENTLOG_OPERATION_TIMEOUT_MS,
      startTimeoutMs: config.WHARF_EVENTLOG_START_TIMEOUT_MS,
      retentionBytes: config.WHARF_EVENTLOG_RETENTION_BYTES,
      retentionMs: config.WHARF_EVENTLOG_RETENTION_HOURS * 3_600_000,
      sweepIntervalMs: config.WHARF_EVENTLOG_SWEEP_INTERVAL_MS,
      pageSize: 1000,
    },
    ownership,
    openPartition: partitionOpener({
      dataDir: resolve(config.WHARF_EVENTLOG_DATA_DIR),
      segmentBytes: config.WHARF_EVENTLOG_SEGMENT_BYTES,
      hotEntries: config.WHARF_EVENTLOG_HOT_ENTRIES,
      clock,
      onCommit: (ms, records) => {
        metrics.commit.observe(ms / 1000);
        metrics.commitRecords.inc(records);
      },
    }),
    peers: grpcPeers(security),
    clock,
    logger,
    feed: catalog,
    publisher: config.WHARF_EVENTLOG_PUBLISH_STATUS ? new EventStoreStatusPublisher(store) : undefined,
  });
  // Crash-only: on restart the log is recovered from disk (torn tail cut); nothing acked is lost.
  engine.onFatal = (err) => tell({ t: 'fatal', message: `storage failed: ${err.message}`, exitCode: 70 });
  metrics.bindPartitions(() => engine.ownedPartitions().length);

  const app = await NestFactory.createApplicationContext(
    IngestModule.forRoot({
      engine,
      metrics,
      grpcAddress,
      security,
      limits: {
        maxLineBytes: config.WHARF_EVENTLOG_MAX_LINE_BYTES,
        ratePerSec: config.WHARF_EVENTLOG_RATE_PER_SENDER,
        burst: config.WHARF_EVENTLOG_RATE_BURST,
      },
      logger,
      clock,
    }),
    { logger: new PinoNestLogger(logger) },
  );
  const bridge = serveOperationLog(port, engine);

  let stopping = false;
  port.on('message', (m: unknown) => {
    if (!isControl(m)) return;
    const msg = m as ToIngestControl;
    switch (msg.t) {
      case 'start':
        // Partitions are taken only once both servers answer: forwarded calls can reach us from then on.
        engine.start().then(
          () => tell({ t: 'started', partitions: engine.ownedPartitions().length }),
          (err: Error) => tell({ t: 'fatal', message: `taking partitions failed: ${err.message}`, exitCode: 1 }),
        );
        return;
      case 'stop':
        if (stopping) return;
        stopping = true;
        void (async () => {
          await app.close();
          bridge.close();
          await engine.stop();
          await catalog.stop();
          etcd.close();
        })()
          .catch((err: Error) => logger.error({ err }, 'ingest thread stop failed'))
          .finally(() => tell({ t: 'stopped' }));
        return;
      case 'metrics-request':
        metrics.registry.getMetricsAsJSON().then(
          (json) => tell({ t: 'metrics', id: msg.id, json }),
          () => tell({ t: 'metrics', id: msg.id, json: [] }),
        );
        return;
    }
  });
  const grpcPort = app.get(EventLogGrpcService).port;
  const host = grpcAddress.slice(0, grpcAddress.lastIndexOf(':'));
  tell({ t: 'ready', grpc: `${host}:${grpcPort}` });
}

run().catch((err: Error) => tell({ t: 'fatal', message: `ingest thread failed to start: ${err.stack ?? err.message}`, exitCode: 1 }));
