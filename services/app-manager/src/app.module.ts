import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule } from '@nestjs/common';
import { ProbesModule, type Readiness } from '@wharf/service-kit';
import type { Registry } from 'prom-client';
import { MetricsController } from './http/metrics.controller';
import { METRICS, SHUTDOWN } from './tokens';

/** Stops the background work (task consumers, reconciler, gRPC) when Nest closes. */
class Lifecycle implements BeforeApplicationShutdown {
  constructor(@Inject(SHUTDOWN) private readonly shutdown: () => Promise<void>) {}
  async beforeApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }
}

export interface AppManagerModuleOptions {
  readiness: Readiness;
  metrics: Registry;
  shutdown: () => Promise<void>;
}

/** app-manager's HTTP side: /livez, /readyz, /metrics. Its work runs outside Nest (see main.ts). */
@Module({})
export class AppManagerModule {
  static forRoot(o: AppManagerModuleOptions): DynamicModule {
    return {
      module: AppManagerModule,
      imports: [ProbesModule.forRoot(o.readiness)],
      controllers: [MetricsController],
      providers: [{ provide: METRICS, useValue: o.metrics }, { provide: SHUTDOWN, useValue: o.shutdown }, Lifecycle],
    };
  }
}
