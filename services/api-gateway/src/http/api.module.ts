import { Module, type DynamicModule } from '@nestjs/common';
import type { Registry } from 'prom-client';
import type { Gateway } from '../domain/gateway';
import { ApiController, GATEWAY } from './api.controller';
import { HealthController, METRICS } from './health.controller';

@Module({})
export class ApiModule {
  static forRoot(gateway: Gateway, metrics: Registry): DynamicModule {
    return {
      module: ApiModule,
      controllers: [ApiController, HealthController],
      providers: [
        { provide: GATEWAY, useValue: gateway },
        { provide: METRICS, useValue: metrics },
      ],
    };
  }
}
