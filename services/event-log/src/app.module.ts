import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@wharf/logging';
import { ProbesModule, Readiness } from '@wharf/service-kit';
import type { Authenticator } from './adapters/feed/authenticator';
import type { RuntimeLogCollector } from './adapters/runtime-logs/runtime-log-collector';
import { HttpController, type IngestMetricsSource } from './http/http.controller';
import { EventLogMetrics } from './metrics';
import { engineReadiness } from './threads/engine-readiness';
import type { OperationLog } from './threads/operation-log';
import { AUTHENTICATOR, COMPONENT_TENANTS, INGEST_METRICS, LOGGER, ON_SHUTDOWN, OPERATION_LOG, RUNTIME_LOGS, WS_SETTINGS } from './tokens';
import { EventLogGateway, type ComponentTenants, type WsSettings } from './ws/eventlog.gateway';

/** The streaming thread's app: HTTP (health, metrics, history) and socket.io. */
export interface EventLogModuleOptions {
  operations: OperationLog;
  ingestMetrics: IngestMetricsSource;
  authenticator: Authenticator;
  componentTenants: ComponentTenants;
  runtimeLogs: RuntimeLogCollector;
  metrics: EventLogMetrics;
  ws: WsSettings;
  logger: Logger;
  /** This process's /readyz (main.ts drains it on a signal before the servers close). */
  readiness: Readiness;
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
    const engine = engineReadiness(o.operations);
    // /livez and /readyz as every service has them; ready once every partition can take appends.
    o.readiness.add({
      name: 'partitions',
      check: async () => {
        const r = await engine();
        return { ok: r.ready, detail: r.reason || undefined };
      },
    });
    return {
      module: EventLogModule,
      imports: [ProbesModule.forRoot(o.readiness)],
      controllers: [HttpController],
      providers: [
        { provide: OPERATION_LOG, useValue: o.operations },
        { provide: INGEST_METRICS, useValue: o.ingestMetrics },
        { provide: AUTHENTICATOR, useValue: o.authenticator },
        { provide: COMPONENT_TENANTS, useValue: o.componentTenants },
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
