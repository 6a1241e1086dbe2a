import { Gauge, type Registry } from 'prom-client';
import type { EtcdAlarmName, EtcdHealth } from './health';

const ALARMS: EtcdAlarmName[] = ['NOSPACE', 'CORRUPT'];

/**
 * etcd's size and alarms as gauges on a service's registry, read from the probe at scrape
 * time (the probe shares one etcd round trip among the gauges of one scrape):
 * wharf_etcd_up, wharf_etcd_db_size_bytes, wharf_etcd_db_size_in_use_bytes,
 * wharf_etcd_quota_bytes, wharf_etcd_alarm{alarm}.
 */
export function registerEtcdMetrics(registry: Registry, probe: { check(): Promise<EtcdHealth> }): void {
  const gauge = (name: string, help: string, read: (h: EtcdHealth, g: Gauge) => void, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        read(await probe.check(), this);
      },
    });
  gauge('wharf_etcd_up', 'Whether etcd answered a status request (1) or not (0)', (h, g) => g.set(h.reachable ? 1 : 0));
  // Unknown while etcd does not answer: NaN rather than a false 0 (a gauge without labels always has a sample).
  gauge('wharf_etcd_db_size_bytes', "Size of etcd's database file (counted against the quota)", (h, g) => g.set(h.dbSizeBytes ?? NaN));
  gauge('wharf_etcd_db_size_in_use_bytes', "Part of etcd's database file in use (the rest is returned by a defragmentation)", (h, g) =>
    g.set(h.dbSizeInUseBytes ?? NaN),
  );
  gauge('wharf_etcd_quota_bytes', "etcd's --quota-backend-bytes as configured for this service", (h, g) => g.set(h.quotaBytes));
  gauge(
    'wharf_etcd_alarm',
    'Whether an etcd alarm is raised (1) or not (0); NOSPACE refuses every write',
    (h, g) => {
      if (!h.reachable) return;
      for (const alarm of ALARMS) g.set({ alarm }, h.alarms.some((a) => a.alarm === alarm) ? 1 : 0);
    },
    ['alarm'],
  );
}
