import { Module, type DynamicModule } from '@nestjs/common';
import { createEtcdClient, etcdReadinessCheck, KeyLayout } from '@wharf/etcd';
import type { Logger } from '@wharf/logging';
import type { TransportSecurity } from '@wharf/pki';
import { ProbesModule, type Readiness } from '@wharf/service-kit';
import { EtcdMaintenanceService, type EtcdMaintenanceSettings } from './adapters/etcd-maintenance.service';
import { MqGrpcService } from './grpc/mq.grpc';
import { HttpController } from './http/http.controller';
import { MqMetrics } from './http/metrics';
import { QueueService, type MqSettings } from './queue/queue.service';
import { ETCD, ETCD_MAINTENANCE, GRPC_ADDRESS, LOGGER, MQ_SETTINGS, SECURITY } from './tokens';

export interface MqModuleOptions {
  etcdEndpoints: string[];
  /** Mutual TLS to etcd and for the gRPC server (or insecure-dev). */
  security: TransportSecurity;
  grpcAddress: string;
  settings: MqSettings;
  /** etcd's health on /metrics and the election of the etcd maintainer. */
  etcdMaintenance: Omit<EtcdMaintenanceSettings, 'endpoints' | 'keys' | 'security'>;
  logger: Logger;
  /** /readyz: etcd reachable and writable (no alarm). */
  readiness: Readiness;
}

@Module({})
export class MqModule {
  static forRoot(options: MqModuleOptions): DynamicModule {
    return {
      module: MqModule,
      imports: [ProbesModule.forRoot(options.readiness)],
      controllers: [HttpController],
      providers: [
        {
          provide: ETCD,
          useFactory: () =>
            createEtcdClient({
              endpoints: options.etcdEndpoints,
              security: options.security,
              maxReceiveMessageBytes: -1,
            }) /* task records hold payloads up to 1 MiB */,
        },
        { provide: MQ_SETTINGS, useValue: options.settings },
        { provide: LOGGER, useValue: options.logger },
        { provide: GRPC_ADDRESS, useValue: options.grpcAddress },
        {
          provide: ETCD_MAINTENANCE,
          useValue: { ...options.etcdMaintenance, endpoints: options.etcdEndpoints, security: options.security, keys: options.settings.keys },
        },
        { provide: SECURITY, useValue: options.security },
        MqMetrics,
        QueueService,
        MqGrpcService,
        {
          provide: 'mq-readiness-checks',
          useFactory: (etcd: EtcdMaintenanceService) => options.readiness.add(etcdReadinessCheck(etcd.health)),
          inject: [EtcdMaintenanceService],
        },
        EtcdMaintenanceService,
      ],
    };
  }
}

export { KeyLayout };
