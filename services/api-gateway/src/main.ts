import 'reflect-metadata';
import { create } from '@bufbuild/protobuf';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ConfigError, loadConfigOrExit } from '@wharf/config';
import { mqV1 } from '@wharf/contracts';
import { createEtcdClient, KeyLayout } from '@wharf/etcd';
import { EtcdEventStore, Projection } from '@wharf/event-store';
import { createClient } from '@wharf/grpc';
import { createLogger, PinoNestLogger } from '@wharf/logging';
import { transportSecurityOrExit } from '@wharf/pki';
import { randomBytes } from 'node:crypto';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { apiConfigShape } from './config';
import { catalogProjection } from './domain/catalog';
import { Gateway } from './domain/gateway';
import { TaskDispatcher, type TaskQueue } from './domain/task-dispatcher';
import { SecretBox } from './domain/secrets';
import { ApiModule } from './http/api.module';
import { CatalogSnapshotter } from './persistence/catalog-snapshotter';
import { EventLogSteps } from './persistence/event-log-steps.adapter';
import { ProjectionSnapshots } from './persistence/projection-snapshots.adapter';
import { ErrorFilter } from './http/error.filter';
import { httpMetrics, stateMetrics } from './http/metrics';

async function main(): Promise<void> {
  const config = loadConfigOrExit(apiConfigShape);
  const logger = createLogger('api-gateway', config.WHARF_LOG_LEVEL);
  const security = transportSecurityOrExit(config, 'api-gateway', (m) => logger.warn(m));
  let key: Buffer;
  try {
    if (config.WHARF_SECRET_KEY) key = SecretBox.parseKey(config.WHARF_SECRET_KEY);
    else if (config.WHARF_DEV_MODE) {
      key = randomBytes(32);
      logger.warn('WHARF_DEV_MODE: secrets are encrypted with a key that dies with this process');
    } else throw new Error('missing (refusing to store secrets unencrypted outside WHARF_DEV_MODE=1)');
  } catch (err) {
    process.stderr.write(`${new ConfigError([`WHARF_SECRET_KEY: ${(err as Error).message}; expected 64 hex characters or base64 of 32 bytes`]).message}\n`);
    process.exit(78);
  }

  const etcd = createEtcdClient({ endpoints: config.WHARF_ETCD_ENDPOINTS, security });
  const keys = new KeyLayout(config.WHARF_ETCD_PREFIX);
  const store = new EtcdEventStore({ client: etcd, keys });
  const projection = new Projection(store, catalogProjection);
  const started = Date.now();
  // Cold start: the latest saved catalog, then the feed from its position (not a full replay).
  const snapshotter = new CatalogSnapshotter(new ProjectionSnapshots(etcd, keys, catalogProjection.name), logger);
  const saved = await snapshotter.restore(store);
  const loadedMs = Date.now() - started;
  await projection.start(saved);
  snapshotter.start(projection);
  const mq = createClient(mqV1.MqService, config.WHARF_MQ_ADDR, { security });
  const queue: TaskQueue = {
    async enqueue(topic, eventId, payload) {
      await mq.enqueue(create(mqV1.EnqueueRequestSchema, { topic, taskId: eventId, eventId, payload }), { timeoutMs: 5000 });
    },
  };
  const tasks = new TaskDispatcher(queue, logger);
  const steps = config.WHARF_EVENTLOG_ADDR ? new EventLogSteps(config.WHARF_EVENTLOG_ADDR, security) : undefined;
  const gateway = new Gateway(store, projection, tasks, new SecretBox(key), steps);
  logger.info(
    {
      ms: Date.now() - started,
      snapshotMs: saved ? loadedMs : undefined,
      fromSnapshot: saved?.position,
      position: projection.position,
      events: projection.state.events,
    },
    'catalog caught up',
  );

  const adminToken = await gateway.bootstrapAdmin(config.WHARF_ADMIN_TOKEN);
  if (adminToken) process.stdout.write(`admin token (shown once, store it now): ${adminToken}\n`);

  // A queued operation goes to mq when the one before it finishes (live only, after catch-up).
  projection.state.onActivated = (op) => void tasks.dispatch(op);
  tasks.start((eventId) => projection.state.operations.get(eventId)?.status === 'pending');

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'wharf_api_' });
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRoot(gateway, metrics), {
    logger: new PinoNestLogger(logger),
    bodyParser: false,
    forceCloseConnections: true,
  });
  // Our ETags are stream versions; express's own would hash every response body.
  app.set('etag', false);
  app.disable('x-powered-by');
  app.use(httpMetrics(metrics));
  stateMetrics(metrics, () => {
    const c = projection.state;
    let pending = 0;
    for (const o of c.operations.values()) if (o.status === 'pending') pending++;
    return {
      events: c.events,
      components: c.components.size - [...c.components.values()].filter((x) => x.deleted).length,
      operationsPending: pending,
      unsentTasks: tasks.backlog,
    };
  });
  app.useBodyParser('json', { limit: '1mb' });
  app.useGlobalFilters(new ErrorFilter(logger));
  const doc = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('Wharf API').setVersion('v1').addBearerAuth().build());
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs/openapi.json' });
  // Longer than clients' and proxies' idle timeouts, so a reused keep-alive socket is never closed under a request.
  const server = app.getHttpServer() as import('node:http').Server;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await app.listen(config.WHARF_HTTP_PORT, config.WHARF_HTTP_HOST);
  const port = (app.getHttpServer().address() as { port: number }).port;
  process.stdout.write(`api-gateway listening http=${config.WHARF_HTTP_HOST}:${port}\n`);
  const shutdown = async () => {
    setTimeout(() => process.exit(0), 10_000).unref(); // never hang on the way out
    tasks.stop();
    try {
      await app.close();
      await snapshotter.stop(projection); // a graceful restart then replays nothing
      await projection.stop();
    } finally {
      mq.close();
      steps?.close();
      etcd.close();
      process.exit(0);
    }
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

main().catch((err) => {
  process.stderr.write(`api-gateway failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
