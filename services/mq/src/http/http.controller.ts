import { Controller, Get, Header, HttpException, HttpStatus, Inject } from '@nestjs/common';
import type { Etcd3 } from '@wharf/etcd';
import type { ReadinessCheck } from '@wharf/service-kit';
import { ETCD } from '../queue/queue.service';
import { MqMetrics } from '../queue/metrics';

/** mq can serve its calls when etcd answers: it keeps nothing of its own. */
export function etcdCheck(client: Etcd3): ReadinessCheck {
  return {
    name: 'etcd',
    async check() {
      try {
        await client.maintenance.status();
        return { ok: true };
      } catch (err) {
        return { ok: false, detail: `etcd unreachable: ${(err as Error).message}` };
      }
    },
  };
}

@Controller()
export class HttpController {
  constructor(
    @Inject(ETCD) private readonly client: Etcd3,
    private readonly metrics: MqMetrics,
  ) {}

  /** Healthy when etcd answers: mq has no state of its own (the same as /readyz's etcd check). */
  @Get('health')
  async health(): Promise<{ status: string }> {
    const etcd = await etcdCheck(this.client).check();
    if (!etcd.ok) throw new HttpException({ status: 'unavailable', reason: etcd.detail }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ok' };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
