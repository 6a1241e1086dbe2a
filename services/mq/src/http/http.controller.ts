import { Controller, Get, Header, HttpException, HttpStatus } from '@nestjs/common';
import { etcdReadinessCheck } from '@wharf/etcd';
import { EtcdMaintenanceService } from '../adapters/etcd-maintenance.service';
import { MqMetrics } from './metrics';

@Controller()
export class HttpController {
  constructor(
    private readonly etcd: EtcdMaintenanceService,
    private readonly metrics: MqMetrics,
  ) {}

  /** Healthy when etcd answers and takes writes: mq has no state of its own (the same as /readyz's etcd check). */
  @Get('health')
  async health(): Promise<{ status: string }> {
    const etcd = await etcdReadinessCheck(this.etcd.health).check();
    if (!etcd.ok) throw new HttpException({ status: 'unavailable', reason: etcd.detail }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ok' };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
