import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@wharf/logging';
import type { Authenticator } from './feed/catalog';
import { LOGGER } from './grpc/eventlog.grpc';
import { HttpController, INGEST_METRICS, type IngestMetricsSource } from './http/http.controller';
import { EventLogMetrics } from './metrics';
import type { RuntimeLogCollector } from './runtime/runtime-log-collector';
import { OPERATION_LOG, type OperationLog } from './threads/operation-log';
import { AUTHENTICATOR, EventLogGateway, RUNTIME_LOGS, WS_SETTINGS, type WsSettings } from './ws/eventlog.gateway';

export const ON_SHUTDOWN = Symbol('on-shutdown');

/** The streaming thread's app: HTTP (health, metrics, history) and socket.io. */
export interface EventLogModuleOptions {
  operations: OperationLog;
  ingestMetrics: IngestMetricsSource;
  authenticator: Authenticator;
  runtimeLogs: RuntimeLogCollector;
  metrics: EventLogMetrics;
  ws: WsSettings;
  logger: Logger;
  /** Runs after the servers stopped (ingest thread, feed, etcd). */
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
        { provide: OPERATION_LOG, useValue: o.operations },
        { provide: INGEST_METRICS, useValue: o.ingestMetrics },
        { provide: AUTHENTICATOR, useValue: o.authenticator },
        { provide: RUNTIME_LOGS, useValue: o.runtimeLogs },
        { provide: WS_SETTINGS, useValue: o.ws },
        { provide: LOGGER, useValue: o.logger },
        { provide: ON_SHUTDOWN, useValue: o.onShutdown },
        Shutdown,
        { provide: EventLogMetrics, useValue: o.metrics },
        EventLogGateway,
      ],
    };
  }
}
