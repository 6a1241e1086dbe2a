import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@wharf/logging';
import type { TransportSecurity } from '@wharf/pki';
import { EventLogEngine } from '../engine/event-log.engine';
import { EventLogGrpcService, GRPC_ADDRESS, INGEST_LIMITS, LOGGER, SECURITY, type IngestLimits } from '../grpc/eventlog.grpc';
import { EventLogMetrics } from '../metrics';

/** The ingest thread's app: the gRPC service (ingest, history, follow, forwarding) over the engine. */
export interface IngestModuleOptions {
  engine: EventLogEngine;
  metrics: EventLogMetrics;
  grpcAddress: string;
  security: TransportSecurity;
  limits: IngestLimits;
  logger: Logger;
}

@Module({})
export class IngestModule {
  static forRoot(o: IngestModuleOptions): DynamicModule {
    return {
      module: IngestModule,
      providers: [
        { provide: EventLogEngine, useValue: o.engine },
        { provide: EventLogMetrics, useValue: o.metrics },
        { provide: GRPC_ADDRESS, useValue: o.grpcAddress },
        { provide: SECURITY, useValue: o.security },
        { provide: INGEST_LIMITS, useValue: o.limits },
        { provide: LOGGER, useValue: o.logger },
        EventLogGrpcService,
      ],
    };
  }
}
