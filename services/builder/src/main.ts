import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit, type z } from '@wharf/config';
import { createLogger, PinoNestLogger } from '@wharf/logging';
import { transportSecurityOrExit } from '@wharf/pki';
import { BoundedExpressAdapter, httpLimitsFrom, Readiness, stopOnSignals } from '@wharf/service-kit';
import { BuilderModule } from './app.module';
import { createBuilder } from './builder';
import { builderConfigShape } from './config';
import { BuilderMetrics } from './http/metrics';

export type BuilderConfig = z.infer<z.ZodObject<typeof builderConfigShape>>;

async function main(): Promise<void> {
  const config = loadConfigOrExit(builderConfigShape);
  const logger = createLogger('builder', config.WHARF_LOG_LEVEL);
  const readiness = new Readiness();
  const metrics = new BuilderMetrics();
  // Mutual TLS to etcd, mq and event-log as the builder (the method table admits it to Enqueue/Subscribe/Ack and Append).
  const security = transportSecurityOrExit(config, 'builder', (m) => logger.warn(m));
  const builder = createBuilder(config, logger, metrics, security);
  for (const c of builder.checks) readiness.add(c);
  const app = await NestFactory.create(BuilderModule.forRoot({ readiness, metrics, runtime: builder }), new BoundedExpressAdapter(httpLimitsFrom(config)), {
    logger: new PinoNestLogger(logger),
  });
  // Running builds are abandoned and handed back to mq within the grace time.
  stopOnSignals(app, { logger, readiness, graceMs: 15_000 });
  await app.listen(config.WHARF_HTTP_PORT, config.WHARF_HTTP_HOST);
  builder.consumer.start();
  const httpPort = (app.getHttpServer().address() as { port: number }).port;
  logger.info({ http: `${config.WHARF_HTTP_HOST}:${httpPort}`, mq: config.WHARF_MQ_ADDR, registry: config.WHARF_BUILDER_REGISTRY }, 'builder listening');
  // One plain line for humans and for tests that wait on it.
  process.stdout.write(`builder listening http=${config.WHARF_HTTP_HOST}:${httpPort}\n`);
}

main().catch((err) => {
  process.stderr.write(`builder failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
