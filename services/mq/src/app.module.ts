import { Module, type DynamicModule } from '@nestjs/common';
import { createEtcdClient, KeyLayout } from '@wharf/etcd';
import type { Logger } from '@wharf/logging';
import type { TransportSecurity } from '@wharf/pki';
import { GRPC_ADDRESS, MqGrpcService, SECURITY } from './grpc/mq.grpc';
import { HttpController } from './http/http.controller';
import { MqMetrics } from './queue/metrics';
import { ETCD, LOGGER, MQ_SETTINGS, QueueService, type MqSettings } from './queue/queue.service';

export interface MqModuleOptions {
  etcdEndpoints: string[];
  /** Mutual TLS to etcd and for the gRPC server (or insecure-dev). */
  security: TransportSecurity;
  grpcAddress: string;
  settings: MqSettings;
  logger: Logger;
}

@Module({})
export class MqModule {
  static forRoot(options: MqModuleOptions): DynamicModule {
    return {
      module: MqModule,
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
        { provide: SECURITY, useValue: options.security },
        MqMetrics,
        QueueService,
        MqGrpcService,
      ],
    };
  }
}

export { KeyLayout };
