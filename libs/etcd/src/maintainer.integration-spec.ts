import { startEtcd, waitFor, type EtcdInstance } from '@wharf/testing';
import {
  checkEtcdHealth,
  createEtcdClient,
  defaultMaintenancePolicy,
  ElectedMaintainer,
  Etcd3MaintenanceApi,
  EtcdMaintainer,
  etcdWritable,
  KeyLayout,
  type Etcd3,
} from './index';

const MiB = 1024 * 1024;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Overwrites a few keys with big values until etcd refuses (NOSPACE); bounded. */
async function fillUntilNospace(client: Etcd3, prefix: string, maxWrites: number): Promise<number> {
  const value = Buffer.alloc(100_000, 'x');
  for (let i = 0; i < maxWrites; i++) {
    try {
      await client.put(`${prefix}${i % 5}`).value(value);
    } catch (err) {
      if (/database space exceeded/.test((err as Error).message)) return i;
      throw err;
    }
  }
  throw new Error(`etcd took ${maxWrites} writes of 100 kB without raising NOSPACE`);
}

describe('etcd maintenance against a real etcd', () => {
  let etcd: EtcdInstance;
  let client: Etcd3;

  afterEach(async () => {
    client?.close();
    await etcd?.destroy();
  });

  it('gets a data center out of NOSPACE: compacts, defragments and disarms, though no lease can be granted to elect a maintainer', async () => {
    etcd = await startEtcd({ quotaBytes: 16 * MiB });
    client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    const writes = await fillUntilNospace(client, '/fill/k', 1000);
    expect(writes).toBeGreaterThan(100); // the history of 5 keys filled it
    const full = await checkEtcdHealth(client, { quotaBytes: etcd.quotaBytes });
    expect(full.alarms.map((a) => a.alarm)).toEqual(['NOSPACE']);
    expect(etcdWritable(full)).toMatchObject({ ok: false });
    await expect(client.lease(10).grant()).rejects.toThrow(/database space exceeded/);

    const api = new Etcd3MaintenanceApi(client, [etcd.endpoint], () => client);
    const maintainer = new EtcdMaintainer(api, { quotaBytes: etcd.quotaBytes, logger: quiet });
    const elected = new ElectedMaintainer(client, new KeyLayout('/dc'), maintainer, { identity: 'only', logger: quiet, retryMs: 200 });
    elected.start();
    try {
      const healthy = await waitFor('NOSPACE disarmed', async () => {
        const h = await checkEtcdHealth(client, { quotaBytes: etcd.quotaBytes });
        return h.reachable && h.alarms.length === 0 ? h : undefined;
      });
      expect(healthy.dbSizeBytes).toBeLessThan(etcd.quotaBytes / 2);
      await client.put('/fill/after').value('writes work again');
      expect(await client.get('/fill/after').string()).toBe('writes work again');
      // The live data survived: only history went.
      expect((await client.get('/fill/k0').buffer())?.length).toBe(100_000);
    } finally {
      await elected.stop();
    }
  });

  it('compacts only history older than the retention, and defragments once it is worth it', async () => {
    etcd = await startEtcd({ quotaBytes: 64 * MiB });
    client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    let now = 1_000_000;
    const policy = { ...defaultMaintenancePolicy(60_000), defragMinGainOfQuota: 0.05 };
    const maintainer = new EtcdMaintainer(new Etcd3MaintenanceApi(client, [etcd.endpoint], () => client), {
      quotaBytes: etcd.quotaBytes,
      policy,
      logger: quiet,
      now: () => now,
    });
    const value = Buffer.alloc(200_000, 'y');
    for (let i = 0; i < 80; i++) await client.put(`/hist/k${i % 2}`).value(value);
    await maintainer.tick(); // the first sample: nothing is old enough yet
    const sampled = BigInt((await client.maintenance.status()).header.revision);
    const before = await client.kv.range({ key: Buffer.from('/hist/k0'), revision: String(sampled - 10n) });
    expect(before.kvs).toHaveLength(1);
    for (let i = 0; i < 20; i++) await client.put(`/hist/k${i % 2}`).value(value);
    const grown = Number((await client.maintenance.status()).dbSize);

    now += 60_000;
    await maintainer.tick();
    // Revisions before the sample taken a retention ago are gone; the sample itself is kept.
    await expect(client.kv.range({ key: Buffer.from('/hist/k0'), revision: String(sampled - 10n) })).rejects.toThrow(/compacted/);
    expect((await client.kv.range({ key: Buffer.from('/hist/k0'), revision: String(sampled) })).kvs).toHaveLength(1);

    // Most of the file is now free pages: this tick or a later one (etcd's in-use figure lags the compaction) rewrites it.
    const shrunk = await waitFor('defragmentation', async () => {
      now += 1000;
      await maintainer.tick();
      const size = Number((await client.maintenance.status()).dbSize);
      return size < grown / 2 ? size : undefined;
    });
    expect(shrunk).toBeLessThan(grown / 2);
  });

  it('elects one maintainer among several, and another takes over when it stops', async () => {
    etcd = await startEtcd();
    client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    const keys = new KeyLayout('/elect');
    const api = new Etcd3MaintenanceApi(client, [etcd.endpoint], () => client);
    const instances = ['mq-1', 'mq-2', 'mq-3'].map(
      (identity) => new ElectedMaintainer(client, keys, new EtcdMaintainer(api, { quotaBytes: etcd.quotaBytes, logger: quiet }), { identity, logger: quiet }),
    );
    instances.forEach((i) => i.start());
    try {
      const first = await waitFor('a leader', async () => instances.find((i) => i.leading));
      await new Promise((r) => setTimeout(r, 300)); // room for a second leader to show up if there were one
      expect(instances.filter((i) => i.leading)).toEqual([first]);
      await first.stop();
      const second = await waitFor('a new leader', async () => instances.find((i) => i !== first && i.leading));
      expect(instances.filter((i) => i.leading)).toEqual([second]);
    } finally {
      for (const i of instances) await i.stop();
    }
  });
});
