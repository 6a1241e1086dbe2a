import { checkEtcdHealth, createEtcdClient, type Etcd3 } from '@wharf/etcd';
import { startEtcd, startMq, waitFor, type EtcdInstance, type RunningMq } from '@wharf/testing';

const MiB = 1024 * 1024;
const metricsOf = async (mq: RunningMq) => (await fetch(`http://${mq.http}/metrics`)).text();
const gauge = (text: string, name: string) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1]);

describe('mq keeps etcd within its quota', () => {
  let etcd: EtcdInstance;
  let client: Etcd3;
  let mqs: RunningMq[] = [];

  beforeAll(async () => {
    etcd = await startEtcd({ quotaBytes: 16 * MiB });
    client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    const env = { WHARF_ETCD_QUOTA_BYTES: String(etcd.quotaBytes), WHARF_ETCD_MAINTENANCE_INTERVAL_MS: '300' };
    mqs = await Promise.all([startMq(etcd, env), startMq(etcd, env)]);
  });
  afterAll(async () => {
    await Promise.all(mqs.map((m) => m.stop()));
    client?.close();
    await etcd?.destroy();
  });

  it("exports etcd's size, quota and alarms, and elects one maintainer", async () => {
    const leaders = await waitFor('a maintainer', async () => {
      const texts = await Promise.all(mqs.map(metricsOf));
      return texts.some((t) => gauge(t, 'wharf_etcd_maintenance_leader') === 1) ? texts : undefined;
    });
    expect(leaders.map((t) => gauge(t, 'wharf_etcd_maintenance_leader')).sort()).toEqual([0, 1]);
    const text = leaders[0];
    expect(gauge(text, 'wharf_etcd_up')).toBe(1);
    expect(gauge(text, 'wharf_etcd_quota_bytes')).toBe(16 * MiB);
    expect(gauge(text, 'wharf_etcd_db_size_bytes')).toBeGreaterThan(0);
    expect(gauge(text, 'wharf_etcd_db_size_in_use_bytes')).toBeGreaterThan(0);
    expect(text).toMatch(/^wharf_etcd_alarm\{alarm="NOSPACE"\} 0$/m);
  });

  it('takes the data center out of NOSPACE by itself: enqueues work again', async () => {
    // Fill etcd behind mq's back: under quota pressure the maintainer still keeps a minute of
    // history (a tenth of the default retention), and this fills the quota in seconds. A client
    // that does not retry: the shared one retries NOSPACE (etcd3 counts it recoverable) for
    // seconds, long enough for the maintainer to clear it, and the fill would never see it.
    const filler = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security, maxAttempts: 0 });
    const value = Buffer.alloc(200_000, 'x');
    let refused = false;
    for (let i = 0; i < 2000 && !refused; i++) {
      await filler
        .put(`/fill/k${i % 4}`)
        .value(value)
        .catch((err: Error) => {
          if (!/database space exceeded/.test(err.message)) throw err;
          refused = true;
        });
    }
    filler.close();
    expect(refused).toBe(true);
    await waitFor(
      'NOSPACE cleared',
      async () => {
        const h = await checkEtcdHealth(client, { quotaBytes: etcd.quotaBytes });
        return h.reachable && h.alarms.length === 0 ? true : undefined;
      },
      30_000,
    );
    const created = await mqs[0].client.enqueue({ topic: 'after-nospace', taskId: 't1', payload: new Uint8Array(8) });
    expect(created.created).toBe(true);
    const texts = await Promise.all(mqs.map(metricsOf));
    expect(texts.every((t) => /^wharf_etcd_alarm\{alarm="NOSPACE"\} 0$/m.test(t))).toBe(true);
    const leader = texts.find((t) => gauge(t, 'wharf_etcd_maintenance_leader') === 1)!;
    expect(Number(leader.match(/^wharf_etcd_maintenance_actions_total\{action="disarm"\} (\d+)$/m)?.[1])).toBeGreaterThanOrEqual(1);
  });
});
