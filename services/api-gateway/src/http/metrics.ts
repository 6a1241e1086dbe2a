import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Request metrics by route template (never the raw path: ids would explode the label set). */
export function httpMetrics(registry: Registry) {
  const requests = new Counter({
    name: 'wharf_api_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'wharf_api_http_request_seconds',
    help: 'HTTP request duration by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  return (server: FastifyInstance): void => {
    server.addHook('onResponse', (req, reply, done) => {
      const route = req.routeOptions.url ?? 'unmatched';
      requests.inc({ method: req.method, route, status: String(reply.statusCode) });
      seconds.observe({ method: req.method, route }, reply.elapsedTime / 1000);
      done();
    });
  };
}

export interface StateSample {
  events: number;
  components: number;
  operationsPending: number;
  unsentTasks: number;
  etcdUp: boolean;
  /** Writes refused at once because etcd was known to be down (a count since the start). */
  etcdRefused: number;
  catalogLive: boolean;
}

/** Read-model, dispatch and dependency gauges, sampled when /metrics is scraped. */
export function stateMetrics(registry: Registry, sample: () => StateSample) {
  const gauge = (name: string, help: string, pick: (s: ReturnType<typeof sample>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(sample()));
      },
    });
  gauge('wharf_api_catalog_events', 'events folded into the catalog', (s) => s.events);
  gauge('wharf_api_catalog_components', 'live components in the catalog', (s) => s.components);
  gauge('wharf_api_operations_pending', 'operations accepted and not started', (s) => s.operationsPending);
  gauge('wharf_api_unsent_tasks', 'accepted operations whose task mq has not taken yet', (s) => s.unsentTasks);
  gauge('wharf_api_etcd_up', '1 while etcd answers (probe and calls), 0 during an outage', (s) => (s.etcdUp ? 1 : 0));
  gauge('wharf_api_catalog_live', '1 while the catalog follows the live feed, 0 while it catches up or is disconnected', (s) => (s.catalogLive ? 1 : 0));
  let counted = 0;
  new Counter({
    name: 'wharf_api_etcd_refused_total',
    help: 'writes refused at once (503) because etcd was known to be down, without waiting for it',
    registers: [registry],
    collect() {
      const n = sample().etcdRefused;
      if (n > counted) this.inc(n - counted);
      counted = n;
    },
  });
}
