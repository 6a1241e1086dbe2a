import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigError, loadConfigOrExit } from '@wharf/config';
import { createLogger, PinoNestLogger } from '@wharf/logging';
import { transportSecurityOrExit } from '@wharf/pki';
import { SecretBox } from '@wharf/secrets';
import { BoundedExpressAdapter, httpLimitsFrom, Readiness, stopOnSignals } from '@wharf/service-kit';
import cookieParser from 'cookie-parser';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { AppModule } from './app.module';
import { consoleConfigShape } from './config';
import { DataCentersService } from './domain/data-centers.service';
import { SessionsService } from './domain/sessions.service';
import { UsersService } from './domain/users.service';
import { ErrorFilter } from './http/error.filter';
import { serveOpenApi } from './http/openapi';
import { serveWebUi } from './http/web-ui';
import { TimelineRelay } from './ws/timeline-relay';

async function main(): Promise<void> {
  const config = loadConfigOrExit(consoleConfigShape);
  const logger = createLogger('console', config.WHARF_LOG_LEVEL);
  // Its own etcd prefix, but the data center's etcd: mutual TLS with the 'console' certificate.
  const security = transportSecurityOrExit(config, 'console', (m) => logger.warn(m));
  let key: Buffer;
  try {
    if (config.WHARF_CONSOLE_SECRET_KEY) key = SecretBox.parseKey(config.WHARF_CONSOLE_SECRET_KEY);
    else if (config.WHARF_DEV_MODE) {
      key = randomBytes(32);
      logger.warn('WHARF_DEV_MODE: data-center tokens are sealed with a key that dies with this process');
    } else throw new Error('missing (refusing to store data-center tokens unencrypted outside WHARF_DEV_MODE=1)');
  } catch (err) {
    process.stderr.write(
      `${new ConfigError([`WHARF_CONSOLE_SECRET_KEY: ${(err as Error).message}; expected 64 hex characters or base64 of 32 bytes`]).message}\n`,
    );
    process.exit(78);
  }

  const readiness = new Readiness();
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({
      config,
      logger,
      secretKey: key,
      readiness,
      security,
      bcryptCost: process.env.WHARF_TEST_BCRYPT_COST ? Number(process.env.WHARF_TEST_BCRYPT_COST) : undefined,
    }),
    new BoundedExpressAdapter(httpLimitsFrom(config)),
    { logger: new PinoNestLogger(logger), bodyParser: false },
  );
  const first = await app.get(UsersService).bootstrap(config.WHARF_CONSOLE_FIRST_USER);
  if (first) process.stdout.write(`console first user (shown once, store it now): ${first.name} ${first.password}\n`);

  app.set('etag', false);
  app.disable('x-powered-by');
  app.use(cookieParser());
  app.useBodyParser('json', { limit: '1mb' });
  app.useGlobalFilters(new ErrorFilter(logger));
  serveOpenApi(app);
  const webDir = config.WHARF_CONSOLE_WEB_DIR ?? join(__dirname, '..', '..', 'web', 'dist');
  if (!serveWebUi(app, webDir)) logger.warn({ webDir }, 'no built web UI found: serving the API only (npm run build builds it)');

  const server = app.getHttpServer() as Server;
  const relay = new TimelineRelay(app.get(SessionsService), app.get(DataCentersService), logger);
  relay.attach(server);
  await app.listen(config.WHARF_HTTP_PORT, config.WHARF_HTTP_HOST);
  const port = (server.address() as { port: number }).port;
  process.stdout.write(`console listening http=${config.WHARF_HTTP_HOST}:${port}\n`);
  stopOnSignals(app, { logger, readiness });
}

main().catch((err) => {
  process.stderr.write(`console failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
