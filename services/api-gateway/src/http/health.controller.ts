import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { METRICS } from '../tokens';

@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(@Inject(METRICS) private readonly registry: Registry) {}

  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
