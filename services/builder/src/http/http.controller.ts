import { Controller, Get, Header, Inject } from '@nestjs/common';
import { BuilderMetrics } from './metrics';

@Controller()
export class HttpController {
  constructor(@Inject(BuilderMetrics) private readonly metrics: BuilderMetrics) {}

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
