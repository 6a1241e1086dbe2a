import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one builder instance. */
export class BuilderMetrics {
  readonly registry = new Registry();
  readonly builds = new Counter({
    name: 'wharf_builder_builds_total',
    help: 'Builds finished by this instance, by outcome (recorded, already-recorded, failed, abandoned, unreadable)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly failures = new Counter({
    name: 'wharf_builder_failures_total',
    help: 'Failed builds by failing step',
    labelNames: ['step'],
    registers: [this.registry],
  });
  readonly running = new Gauge({ name: 'wharf_builder_running_builds', help: 'Builds running now', registers: [this.registry] });
  readonly duration = new Histogram({
    name: 'wharf_builder_build_seconds',
    help: 'Time from taking a build task to its outcome',
    labelNames: ['outcome'],
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
