import { Registry } from 'prom-client';
import { EtcdHealthProbe, etcdWritable, type EtcdStatusSource } from './health';
import { registerEtcdMetrics } from './metrics';

function source(over: { status?: () => Promise<unknown>; alarm?: () => Promise<unknown> } = {}) {
  const calls = { status: 0 };
  const fake = {
    maintenance: {
      status: () => {
        calls.status++;
        return (over.status ?? (() => Promise.resolve({ dbSize: '4096000', dbSizeInUse: '1024000', header: { revision: '7' } })))();
      },
      alarm: over.alarm ?? (() => Promise.resolve({ alarms: [{ memberID: '42', alarm: 'Nospace' }] })),
    },
  } as unknown as EtcdStatusSource;
  return { fake, calls };
}

describe('EtcdHealthProbe', () => {
  it('reports sizes, the configured quota and raised alarms by their etcdctl names', async () => {
    const health = await new EtcdHealthProbe(source().fake, { quotaBytes: 64 * 1024 * 1024 }).check();
    expect(health).toEqual({
      reachable: true,
      dbSizeBytes: 4096000,
      dbSizeInUseBytes: 1024000,
      quotaBytes: 67108864,
      alarms: [{ memberId: '42', alarm: 'NOSPACE' }],
    });
    expect(etcdWritable(health)).toEqual({ ok: false, reason: 'etcd alarm raised: NOSPACE' });
  });

  it('answers unreachable within its timeout instead of waiting for etcd', async () => {
    const never = () => new Promise(() => undefined);
    const health = await new EtcdHealthProbe(source({ status: never }).fake, { timeoutMs: 20 }).check();
    expect(health).toMatchObject({ reachable: false, alarms: [], error: 'etcd did not answer within 20 ms' });
    expect(etcdWritable(health)).toEqual({ ok: false, reason: 'etcd unreachable: etcd did not answer within 20 ms' });
  });

  it('answers unreachable when etcd fails', async () => {
    const health = await new EtcdHealthProbe(source({ alarm: () => Promise.reject(new Error('14 UNAVAILABLE')) }).fake).check();
    expect(health).toMatchObject({ reachable: false, error: '14 UNAVAILABLE', quotaBytes: 2 * 1024 ** 3 });
  });

  it('is writable with no alarm', async () => {
    const health = await new EtcdHealthProbe(source({ alarm: () => Promise.resolve({ alarms: [] }) }).fake).check();
    expect(etcdWritable(health)).toEqual({ ok: true });
  });
});

describe('registerEtcdMetrics', () => {
  it('exports the gauges from one etcd round trip per scrape', async () => {
    const { fake, calls } = source();
    const registry = new Registry();
    registerEtcdMetrics(registry, new EtcdHealthProbe(fake, { quotaBytes: 1000 }));
    const text = await registry.metrics();
    expect(text).toContain('wharf_etcd_up 1');
    expect(text).toContain('wharf_etcd_db_size_bytes 4096000');
    expect(text).toContain('wharf_etcd_db_size_in_use_bytes 1024000');
    expect(text).toContain('wharf_etcd_quota_bytes 1000');
    expect(text).toContain('wharf_etcd_alarm{alarm="NOSPACE"} 1');
    expect(text).toContain('wharf_etcd_alarm{alarm="CORRUPT"} 0');
    expect(calls.status).toBe(1);
  });

  it('leaves sizes and alarms out while etcd does not answer', async () => {
    const registry = new Registry();
    registerEtcdMetrics(registry, new EtcdHealthProbe(source({ status: () => Promise.reject(new Error('down')) }).fake));
    const text = await registry.metrics();
    expect(text).toContain('wharf_etcd_up 0');
    expect(text).toContain('wharf_etcd_db_size_bytes Nan');
    expect(text).not.toMatch(/^wharf_etcd_alarm\{/m);
  });
});
