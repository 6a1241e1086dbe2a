import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Gateway } from '../gateway';

/** lb-manager's /metrics: what nginx runs and how often it was written, reloaded or refused. */
export function gatewayMetrics(gateway: Gateway): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const instances = [gateway.http, gateway.stream];
  const perInstance = (name: string, help: string, key: keyof (typeof gateway.http)['counts']) =>
    new Counter({
      name,
      help,
      labelNames: ['instance'],
      registers: [registry],
      collect() {
        this.reset();
        for (const i of instances) this.inc({ instance: i.name }, i.counts[key]);
      },
    });
  perInstance('wharf_lb_nginx_config_writes_total', 'nginx config files written (only when the rendered text changed)', 'writes');
  perInstance('wharf_lb_nginx_reloads_total', 'graceful reloads confirmed by the new generation', 'reloads');
  perInstance('wharf_lb_nginx_starts_total', 'nginx masters started', 'starts');
  perInstance('wharf_lb_nginx_rejected_total', 'configs nginx refused (nginx -t or a reload that did not take); the last good one kept serving', 'rejected');
  new Counter({
    name: 'wharf_lb_routing_table_pushes_total',
    help: 'routing tables replaced in the http instance (no reload)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(gateway.table.counts.pushes);
    },
  });
  new Counter({
    name: 'wharf_lb_syncs_total',
    help: 'syncs of nginx with the desired state (changes coalesce into one)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(gateway.sync.status.syncs);
    },
  });
  new Gauge({
    name: 'wharf_lb_routes',
    help: 'routes served, by kind',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const s = gateway.sync.status.state;
      this.set({ kind: 'http' }, s?.rules.length ?? 0);
      this.set({ kind: 'tcp' }, s?.tcp.length ?? 0);
    },
  });
  new Gauge({
    name: 'wharf_lb_rejected_routes',
    help: 'routes and certificates not served (see GET /routes for why)',
    registers: [registry],
    collect() {
      this.set(gateway.sync.status.state?.rejections.length ?? 0);
    },
  });
  new Gauge({
    name: 'wharf_lb_state_info',
    help: 'what nginx serves: routing table version and config generations (the same on every instance for the same state)',
    labelNames: ['table', 'http', 'stream'],
    registers: [registry],
    collect() {
      this.reset();
      const s = gateway.sync.status;
      this.set({ table: s.tableVersion ?? '', http: s.httpGeneration ?? '', stream: s.streamGeneration ?? '' }, 1);
    },
  });
  return registry;
}
