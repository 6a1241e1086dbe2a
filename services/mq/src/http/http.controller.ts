import { Controller, Get, Header, HttpException, HttpStatus, Inject } from '@nestjs/common';
import type { Etcd3 } from '@wharf/etcd';
import { ETCD } from '../queue/queue.service';
import { MqMetrics } from '../queue/metrics';

@Controller()
export class HttpController {
  constructor(
    @Inject(ETCD) private readonly client: Etcd3,
    private readonly metrics: MqMetrics,
  ) {}

  /** Healthy when etcd answers: mq has no state of its own. */
  @Get('health')
  async health(): Promise<{ status: string }> {
    try {
      await Promise.race([
        this.client.maintenance.status(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('etcd did not answer within 2 s')), 2000).unref()),
      ]);
      return { status: 'ok' };
    } catch (err) {
      throw new HttpException({ status: 'unavailable', reason: (err as Error).message }, HttpStatus.SERVICE_UNAVAILABLE);
    }
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
