import type { Etcd3 } from 'etcd3';

/** etcd's default --quota-backend-bytes (2 GiB): what a member enforces when nobody set one. */
export const ETCD_DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

/** etcd's alarm names as etcdctl prints them. */
export type EtcdAlarmName = 'NOSPACE' | 'CORRUPT';

export interface EtcdAlarm {
  memberId: string;
  alarm: EtcdAlarmName;
}

export interface EtcdHealth {
  reachable: boolean;
  /** Size of the answering member's database file: what etcd holds against the quota. */
  dbSizeBytes?: number;
  /** Of that, the part holding live data and kept history; the rest is free pages a defragmentation returns. */
  dbSizeInUseBytes?: number;
  quotaBytes: number;
  /** Raised alarms, cluster-wide. While NOSPACE is raised every write (put, txn, lease grant) fails. */
  alarms: EtcdAlarm[];
  /** Why reachable is false. */
  error?: string;
}

export interface EtcdHealthOptions {
  /** The --quota-backend-bytes the members run with (etcd does not report it). Default: etcd's 2 GiB. */
  quotaBytes?: number;
  /** A check that takes longer answers unreachable. Default 2000 ms. */
  timeoutMs?: number;
}

/** The two maintenance calls a health check needs; the etcd3 client has both. */
export interface EtcdStatusSource {
  maintenance: Pick<Etcd3['maintenance'], 'status' | 'alarm'>;
}

const ALARM_NAMES: Record<string, EtcdAlarmName> = { Nospace: 'NOSPACE', Corrupt: 'CORRUPT' };

/** etcd3 names alarms as the protobuf enum does ("Nospace"); reports use etcdctl's names. */
export function alarmName(alarm: string): EtcdAlarmName | undefined {
  return ALARM_NAMES[alarm];
}

/**
 * etcd's state for readiness checks and metrics: never throws, answers within the timeout.
 * Concurrent checks (a metrics scrape reads several gauges at once) share one etcd round trip.
 */
export class EtcdHealthProbe {
  private inFlight?: Promise<EtcdHealth>;
  private readonly quotaBytes: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly client: EtcdStatusSource,
    options: EtcdHealthOptions = {},
  ) {
    this.quotaBytes = options.quotaBytes ?? ETCD_DEFAULT_QUOTA_BYTES;
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  check(): Promise<EtcdHealth> {
    this.inFlight ??= this.read().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async read(): Promise<EtcdHealth> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`etcd did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
    });
    try {
      const [status, alarms] = await Promise.race([Promise.all([this.client.maintenance.status(), this.client.maintenance.alarm({ action: 'Get' })]), timeout]);
      return {
        reachable: true,
        dbSizeBytes: Number(status.dbSize),
        dbSizeInUseBytes: Number(status.dbSizeInUse),
        quotaBytes: this.quotaBytes,
        alarms: (alarms.alarms ?? []).flatMap((a) => {
          const alarm = alarmName(a.alarm);
          return alarm ? [{ memberId: a.memberID, alarm }] : [];
        }),
      };
    } catch (err) {
      return { reachable: false, quotaBytes: this.quotaBytes, alarms: [], error: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** One-off check: `await checkEtcdHealth(client, { quotaBytes })`. */
export function checkEtcdHealth(client: EtcdStatusSource, options: EtcdHealthOptions = {}): Promise<EtcdHealth> {
  return new EtcdHealthProbe(client, options).check();
}

/**
 * Can the data center write to etcd? What a readiness endpoint needs: unreachable, or an
 * alarm raised (NOSPACE refuses every write; CORRUPT needs an operator), is not ready.
 */
export function etcdWritable(health: EtcdHealth): { ok: true } | { ok: false; reason: string } {
  if (!health.reachable) return { ok: false, reason: `etcd unreachable: ${health.error ?? 'no answer'}` };
  const raised = [...new Set(health.alarms.map((a) => a.alarm))];
  if (raised.length > 0) return { ok: false, reason: `etcd alarm raised: ${raised.join(', ')}` };
  return { ok: true };
}

/**
 * The `etcd` check of a service's /readyz (shaped as @wharf/service-kit's ReadinessCheck):
 * ready while etcd answers and takes writes; the detail names an outage or a raised alarm,
 * and reports the database size against the quota.
 */
export function etcdReadinessCheck(probe: Pick<EtcdHealthProbe, 'check'>): { name: string; check(): Promise<{ ok: boolean; detail?: string }> } {
  return {
    name: 'etcd',
    async check() {
      const health = await probe.check();
      const writable = etcdWritable(health);
      if (!writable.ok) return { ok: false, detail: writable.reason };
      const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
      return { ok: true, detail: `database ${mib(health.dbSizeBytes ?? 0)} MiB of a ${mib(health.quotaBytes)} MiB quota` };
    },
  };
}
