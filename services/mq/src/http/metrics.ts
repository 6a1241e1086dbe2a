import { Injectable } from '@nestjs/common';
import type { mqV1 } from '@wharf/contracts';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one mq instance; queue depths are read from etcd at scrape time. */
@Injectable()
export class MqMetrics {
  readonly registry = new Registry();
  readonly enqueued = new Counter({ name: 'wharf_mq_enqueued_total', help: 'Tasks created by Enqueue', labelNames: ['topic'], registers: [this.registry] });
  readonly duplicates = new Counter({
    name: 'wharf_mq_enqueue_duplicates_total',
    help: 'Enqueue calls for a task_id already queued',
    labelNames: ['topic'],
    registers: [this.registry],
  });
  readonly acked = new Counter({ name: 'wharf_mq_acked_total', help: 'Tasks acked', labelNames: ['topic'], registers: [this.registry] });
  readonly nacked = new Counter({ name: 'wharf_mq_nacked_total', help: 'Tasks nacked', labelNames: ['topic'], registers: [this.registry] });
  readonly dead = new Counter({
    name: 'wharf_mq_dead_total',
    help: 'Tasks moved to the dead letter by Nack',
    labelNames: ['topic'],
    registers: [this.registry],
  });
  readonly expired = new Counter({
    name: 'wharf_mq_lease_expired_total',
    help: 'Leases that expired and were swept by this instance',
    registers: [this.registry],
  });
  readonly handoffs = new Counter({
    name: 'wharf_mq_handoffs_total',
    help: 'Tasks leased to a waiting consumer in the Enqueue transaction itself (never queued)',
    labelNames: ['topic'],
    registers: [this.registry],
  });
  readonly deliveries = new Counter({ name: 'wharf_mq_deliveries_total', help: 'Tasks delivered (leased)', labelNames: ['topic'], registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'wharf_mq_enqueue_to_delivery_seconds',
    help: 'Time from Enqueue to the first delivery of a task (tasks without delay)',
    labelNames: ['topic'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  private statsSource?: (topics: string[]) => Promise<mqV1.TopicStats[]>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'wharf_mq_' });
    const source = () => this.statsSource;
    const gauge = (name: string, help: string, pick: (s: mqV1.TopicStats) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['topic'],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const s of (await source()?.([])) ?? []) this.set({ topic: s.topic }, pick(s));
        },
      });
    gauge('wharf_mq_depth', 'Tasks waiting', (s) => Number(s.depth));
    gauge('wharf_mq_in_flight', 'Tasks leased and not yet acked', (s) => Number(s.inFlight));
    gauge('wharf_mq_dead', 'Tasks in the dead letter', (s) => Number(s.dead));
  }

  bindStats(source: (topics: string[]) => Promise<mqV1.TopicStats[]>): void {
    this.statsSource = source;
  }

  delivered(d: mqV1.Delivery): void {
    const topic = d.task?.topic ?? '';
    this.deliveries.inc({ topic });
    if (d.task?.attempt === 1) this.latency.observe({ topic }, Math.max(0, Date.now() - Number(d.task.enqueuedAtMs)) / 1000);
  }
}
