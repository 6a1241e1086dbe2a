import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '@wharf/config';
import { createLogger, PinoNestLogger } from '@wharf/logging';
import { BoundedExpressAdapter, httpLimitsFrom, Readiness, stopOnSignals } from '@wharf/service-kit';
import { transportSecurityOrExit } from '@wharf/pki';
import { KeyLayout, MqModule } from './app.module';
import { mqConfigShape } from './config';
import { MqGrpcService } from './grpc/mq.grpc';

async function main(): Promise<void> {
  const config = loadConfigOrExit(mqConfigShape);
  const logger = createLogger('mq', config.WHARF_LOG_LEVEL);
  const readiness = new Readiness();
  const security = transportSecurityOrExit(config, 'mq', (m) => logger.warn(m));
  const app = await NestFactory.create(
    MqModule.forRoot({
      readiness,
      etcdEndpoints: config.WHARF_ETCD_ENDPOINTS,
      security,
      grpcAddress: config.WHARF_MQ_GRPC_ADDR,
      logger,
      settings: {
        keys: new KeyLayout(config.WHARF_ETCD_PREFIX),
        defaultLeaseMs: config.WHARF_MQ_DEFAULT_LEASE_MS,
        defaultMaxAttempts: config.WHARF_MQ_MAX_ATTEMPTS,
        backoffBaseMs: config.WHARF_MQ_BACKOFF_BASE_MS,
        backoffMaxMs: config.WHARF_MQ_BACKOFF_MAX_MS,
        sweepIntervalMs: config.WHARF_MQ_SWEEP_INTERVAL_MS,
      },
      etcdMaintenance: {
        quotaBytes: config.WHARF_ETCD_QUOTA_BYTES,
        enabled: config.WHARF_ETCD_MAINTENANCE,
        intervalMs: config.WHARF_ETCD_MAINTENANCE_INTERVAL_MS,
        retentionMs: config.WHARF_ETCD_HISTORY_RETENTION_MS,
      },
    }),
    new BoundedExpressAdapter(httpLimitsFrom(config)),
    { logger: new PinoNestLogger(logger) },
  );
  stopOnSignals(app, { logger, readiness });
  await app.listen(config.WHARF_HTTP_PORT, config.WHARF_HTTP_HOST);
  const httpPort = (app.getHttpServer().address() as { port: number }).port;
  const grpcPort = app.get(MqGrpcService).port;
  const host = config.WHARF_MQ_GRPC_ADDR.slice(0, config.WHARF_MQ_GRPC_ADDR.lastIndexOf(':'));
  logger.info({ grpc: `${host}:${grpcPort}`, http: `${config.WHARF_HTTP_HOST}:${httpPort}` }, 'mq listening');
  // One plain line for humans and for tests that wait on it.
  process.stdout.write(`mq listening grpc=${host}:${grpcPort} http=${config.WHARF_HTTP_HOST}:${httpPort}\n`);
}

main().catch((err) => {
  process.stderr.write(`mq failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
