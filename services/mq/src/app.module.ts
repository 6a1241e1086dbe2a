import { Module, type DynamicModule } from '@nestjs/common';
import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import type { Logger } from '@wharf/logging';
import { ProbesModule, type Readiness } from '@wharf/service-kit';
import { GRPC_ADDRESS, MqGrpcService } from './grpc/mq.grpc';
import { etcdCheck, HttpController } from './http/http.controller';
import { MqMetrics } from './queue/metrics';
import { ETCD, LOGGER, MQ_SETTINGS, QueueService, type MqSettings } from './queue/queue.service';

export interface MqModuleOptions {
  etcdEndpoints: string[];
  grpcAddress: string;
  settings: MqSettings;
  logger: Logger;
  /** /readyz: etcd reachable. */
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
          useFactory: () => createEtcdClient({ endpoints: options.etcdEndpoints, maxReceiveMessageBytes: -1 }) /* task records hold payloads up to 1 MiB */,
        },
        { provide: MQ_SETTINGS, useValue: options.settings },
        { provide: LOGGER, useValue: options.logger },
        { provide: GRPC_ADDRESS, useValue: options.grpcAddress },
        MqMetrics,
        QueueService,
        MqGrpcService,
        { provide: 'mq-readiness-checks', useFactory: (etcd: Etcd3) => options.readiness.add(etcdCheck(etcd)), inject: [ETCD] },
      ],
    };
  }
}

export { KeyLayout };
