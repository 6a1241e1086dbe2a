import type { INestApplicationContext } from '@nestjs/common';
import type { Logger } from '@wharf/logging';
import type { Readiness } from './readiness';

/**
 * The one way a Wharf process stops: on SIGTERM or SIGINT it turns not ready, closes the Nest
 * application (every provider's shutdown hooks, in Nest's order) and exits 0; if that takes
 * longer than graceMs it exits 1 anyway, so a stop never hangs.
 */
export function stopOnSignals(app: INestApplicationContext, options: { logger: Logger; readiness?: Readiness; graceMs?: number }): void {
  const graceMs = options.graceMs ?? 10_000;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    options.readiness?.drain(`shutting down (${signal})`);
    options.logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      options.logger.error({ graceMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, graceMs).unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        options.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
