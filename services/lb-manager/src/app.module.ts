import { Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Logger } from '@wharf/logging';
import type { TransportSecurity } from '@wharf/pki';
import { ProbesModule, type Readiness } from '@wharf/service-kit';
import { systemClock, type Clock } from '@wharf/system';
import type { LbConfig } from './config';
import { Gateway } from './gateway';
import { GatewayController, gatewayChecks } from './http/gateway.controller';
import { gatewayMetrics } from './http/metrics';
import { GATEWAY, LOGGER, METRICS } from './tokens';

export interface AppOptions {
  config: LbConfig;
  /** How etcd is reached: mutual TLS with lb-manager's certificate, or insecure-dev. */
  security: TransportSecurity;
  logger: Logger;
  /** /readyz: routes followed, endpoints watched, nginx serving. */
  readiness: Readiness;
  clock?: Clock;
}

/**
 * lb-manager: the Gateway (etcd, feed fold, endpoints watch, nginx instances, sync) started
 * before the app serves, stopped by its shutdown hook (app.close(), from stopOnSignals).
 */
@Module({})
export class AppModule implements OnApplicationShutdown {
  constructor(private readonly moduleRef: ModuleRef) {}

  static forRoot(options: AppOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [ProbesModule.forRoot(options.readiness)],
      controllers: [GatewayController],
      providers: [
        { provide: LOGGER, useValue: options.logger },
        {
          provide: GATEWAY,
          useFactory: async () => {
            const gateway = new Gateway(options.config, options.security, options.logger, options.clock ?? systemClock);
            options.readiness.add(...gatewayChecks(gateway));
            await gateway.start();
            return gateway;
          },
        },
        { provide: METRICS, useFactory: (g: Gateway) => gatewayMetrics(g), inject: [GATEWAY] },
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.moduleRef.get<Gateway>(GATEWAY).stop();
  }
}
