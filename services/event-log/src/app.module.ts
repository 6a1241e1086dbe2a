import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@wharf/logging';
import { EventLogEngine } from './engine/event-log.engine';
import type { Authenticator } from './feed/catalog';
import { EventLogGrpcService, GRPC_ADDRESS, INGEST_LIMITS, LOGGER, type IngestLimits } from './grpc/eventlog.grpc';
import { HttpController } from './http/http.controller';
import { EventLogMetrics } from './metrics';
import type { RuntimeLogCollector } from './runtime/runtime-log-collector';
import { AUTHENTICATOR, EventLogGateway, RUNTIME_LOGS, WS_SETTINGS, type WsSettings } from './ws/eventlog.gateway';

export const ON_SHUTDOWN = Symbol('on-shutdown');

export interface EventLogModuleOptions {
  engine: EventLogEngine;
  authenticator: Authenticator;
  runtimeLogs: RuntimeLogCollector;
  metrics: EventLogMetrics;
  grpcAddress: string;
  limits: IngestLimits;
  ws: WsSettings;
  logger: Logger;
  /** Runs after the servers stopped (engine, feed, etcd). */
  onShutdown: () => Promise<void>;
}

class Shutdown implements OnApplicationShutdown {
  constructor(@Inject(ON_SHUTDOWN) private readonly run: () => Promise<void>) {}
  onApplicationShutdown(): Promise<void> {
    return this.run();
  }
}

@Module({})
export class EventLogModule {
  static forRoot(o: EventLogModuleOptions): DynamicModule {
    return {
      module: EventLogModule,
      controllers: [HttpController],
      providers: [
        { provide: EventLogEngine, useValue: o.engine },
        { provide: AUTHENTICATOR, useValue: o.authenticator },
        { provide: RUNTIME_LOGS, useValue: o.runtimeLogs },
        { provide: GRPC_ADDRESS, useValue: o.grpcAddress },
        { provide: INGEST_LIMITS, useValue: o.limits },
        { provide: WS_SETTINGS, useValue: o.ws },
        { provide: LOGGER, useValue: o.logger },
        { provide: ON_SHUTDOWN, useValue: o.onShutdown },
        Shutdown,
        { provide: EventLogMetrics, useValue: o.metrics },
        EventLogGrpcService,
        EventLogGateway,
      ],
    };
  }
}
