import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { ProbesModule, type Readiness } from '@wharf/service-kit';
import { HttpController } from './http/http.controller';
import { BuilderMetrics } from './http/metrics';

export const BUILDER_RUNTIME = Symbol('builder-runtime');

/** Stops taking builds when the application closes (running ones go back to mq). */
@Injectable()
export class BuilderLifecycle implements OnApplicationShutdown {
  constructor(@Inject(BUILDER_RUNTIME) private readonly runtime: { close(): Promise<void> }) {}
  onApplicationShutdown(): Promise<void> {
    return this.runtime.close();
  }
}

export interface BuilderModuleOptions {
  /** /readyz: etcd, the Docker Engine and mq reachable. */
  readiness: Readiness;
  metrics: BuilderMetrics;
  runtime: { close(): Promise<void> };
}

/** The builder's HTTP side: probes and metrics. Builds come from mq (see builder.ts). */
@Module({})
export class BuilderModule {
  static forRoot(options: BuilderModuleOptions): DynamicModule {
    return {
      module: BuilderModule,
      imports: [ProbesModule.forRoot(options.readiness)],
      controllers: [HttpController],
      providers: [{ provide: BuilderMetrics, useValue: options.metrics }, { provide: BUILDER_RUNTIME, useValue: options.runtime }, BuilderLifecycle],
    };
  }
}
