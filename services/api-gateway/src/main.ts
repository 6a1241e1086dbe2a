import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigError, loadConfigOrExit } from '@wharf/config';
import type { Projection } from '@wharf/event-store';
import { createLogger, PinoNestLogger } from '@wharf/logging';
import { boundedFastifyAdapter, httpLimitsFrom, Readiness, stopOnSignals } from '@wharf/service-kit';
import { transportSecurityOrExit } from '@wharf/pki';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { SecretBox } from './adapters/aes-secret-box.adapter';
import { AppModule } from './app.module';
import { apiConfigShape } from './config';
import type { Catalog } from './domain/catalog';
import type { DependencyState } from './domain/dependency-state';
import { IdentityService } from './domain/identity.service';
import { TaskDispatcher } from './domain/task-dispatcher';
import { HOOKS_PATH } from './domain/webhooks.service';
import { ErrorFilter } from './http/error.filter';
import { EventLogProxy, isEventLogPath } from './http/event-log-proxy';
import { acceptJsonBodies, BODY_LIMIT_BYTES } from './http/json-body';
import { httpMetrics, stateMetrics } from './http/metrics';
import { serveOpenApi } from './http/openapi';
import { CATALOG, ETCD_STATE, METRICS } from './tokens';

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

  // Creating the app catches the catalog up with the feed (app.module.ts).
  const readiness = new Readiness();
  // socket.io and operation history are event-log's: proxied under this address, taken before fastify parses anything.
  const eventLogProxy = config.WHARF_EVENTLOG_HTTP_URL ? new EventLogProxy(config.WHARF_EVENTLOG_HTTP_URL, logger) : undefined;
  const adapter = boundedFastifyAdapter(httpLimitsFrom(config), {
    bodyLimitBytes: BODY_LIMIT_BYTES,
    divert: eventLogProxy && { matches: isEventLogPath, handler: eventLogProxy.handle },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ config, logger, secretKey: key, readiness, security }), adapter, {
    logger: new PinoNestLogger(logger),
    bodyParser: false,
  });
  const server = app.getHttpAdapter().getInstance();
  // Webhook deliveries stay the exact bytes received, unparsed: their HMAC is over them (webhooks.service.ts).
  acceptJsonBodies(server, { keepRaw: (url) => url.startsWith(`${HOOKS_PATH}/`) });
  const adminToken = await app.get(IdentityService).bootstrapAdmin(config.WHARF_ADMIN_TOKEN);
  if (adminToken) process.stdout.write(`admin token (shown once, store it now): ${adminToken}\n`);

  const metrics = app.get<Registry>(METRICS);
  httpMetrics(metrics)(server);
  const projection = app.get<Projection<Catalog>>(CATALOG);
  const tasks = app.get(TaskDispatcher);
  const etcd = app.get<DependencyState>(ETCD_STATE);
  stateMetrics(metrics, () => {
    const c = projection.state;
    let pending = 0;
    for (const o of c.operations.values()) if (o.status === 'pending') pending++;
    return {
      events: c.events,
      components: c.components.size - [...c.components.values()].filter((x) => x.deleted).length,
      operationsPending: pending,
      unsentTasks: tasks.backlog,
      etcdUp: etcd.up,
      etcdRefused: etcd.refused,
      catalogLive: projection.live,
    };
  });
  app.useGlobalFilters(new ErrorFilter(logger));
  serveOpenApi(app);
  const httpServer = app.getHttpServer() as Server;
  eventLogProxy?.attach(httpServer);
  await app.listen(config.WHARF_HTTP_PORT, config.WHARF_HTTP_HOST);
  const port = (httpServer.address() as { port: number }).port;
  process.stdout.write(`api-gateway listening http=${config.WHARF_HTTP_HOST}:${port}\n`);
  // SIGTERM/SIGINT: not ready, then app.close() runs AppModule's shutdown hooks in order.
  stopOnSignals(app, { logger, readiness });
}

main().catch((err) => {
  process.stderr.write(`api-gateway failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
