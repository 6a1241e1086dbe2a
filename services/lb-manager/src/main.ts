import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfigOrExit } from '@wharf/config';
import { createLogger, PinoNestLogger } from '@wharf/logging';
import { transportSecurityOrExit } from '@wharf/pki';
import { SecretBox } from '@wharf/secrets';
import { BoundedExpressAdapter, httpLimitsFrom, Readiness, stopOnSignals } from '@wharf/service-kit';
import { AppModule } from './app.module';
import { lbConfigShape } from './config';
import type { Gateway } from './gateway';
import { GATEWAY } from './tokens';

async function main(): Promise<void> {
  const config = loadConfigOrExit(lbConfigShape);
  if (config.WHARF_SECRET_KEY) {
    try {
      SecretBox.parseKey(config.WHARF_SECRET_KEY);
    } catch (err) {
      process.stderr.write(`${new ConfigError([`WHARF_SECRET_KEY: ${(err as Error).message}`]).message}\n`);
      process.exit(78);
    }
  }
  const logger = createLogger('lb-manager', config.WHARF_LOG_LEVEL);
  // etcd admits only clients with a certificate of the data center's CA (lb-manager serves and calls no gRPC).
  const security = transportSecurityOrExit(config, 'lb-manager', (m) => logger.warn(m));
  if (!config.WHARF_SECRET_KEY) logger.warn('no WHARF_SECRET_KEY: routes with their own certificate are served with the default one');
  const readiness = new Readiness();
  // Creating the app starts the gateway: nginx serves the current routes before we listen.
  const app = await NestFactory.create(AppModule.forRoot({ config, security, logger, readiness }), new BoundedExpressAdapter(httpLimitsFrom(config)), {
    logger: new PinoNestLogger(logger),
  });
  stopOnSignals(app, { logger, readiness });
  await app.listen(config.WHARF_HTTP_PORT, config.WHARF_HTTP_HOST);
  const port = (app.getHttpServer().address() as { port: number }).port;
  const gateway = app.get<Gateway>(GATEWAY);
  const s = gateway.settings;
  const where = `http=${config.WHARF_HTTP_HOST}:${port} gateway_http=${s.listenAddress}:${s.httpPort} gateway_https=${s.listenAddress}:${s.httpsPort}`;
  logger.info({ where }, 'lb-manager listening');
  // One plain line for humans and for tests that wait on it.
  process.stdout.write(`lb-manager listening ${where}\n`);
}

main().catch((err) => {
  process.stderr.write(`lb-manager failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
