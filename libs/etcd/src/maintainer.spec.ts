import { Registry } from 'prom-client';
import { EtcdMaintainer, type EtcdMaintenanceApi, type MaintainerLogger } from './maintainer';
import { defaultMaintenancePolicy, type MemberObservation } from './maintenance-policy';

const MiB = 1024 * 1024;

/** An etcd in memory: one member, NOSPACE while its file is over the quota, compaction frees what is history. */
class FakeEtcd implements EtcdMaintenanceApi {
  revision = 100n;
  file = 110 * MiB;
  live = 20 * MiB;
  history = 90 * MiB;
  nospace = true;
  calls: string[] = [];
  failNext?: Error;

  async observe(): Promise<{ revision: bigint; members: MemberObservation[]; nospace: boolean }> {
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    return {
      revision: this.revision,
      members: [{ endpoint: 'e1', memberId: '1', isLeader: true, dbSizeBytes: this.file, dbSizeInUseBytes: this.live + this.history }],
      nospace: this.nospace,
    };
  }
  async compact(revision: bigint) {
    this.calls.push(`compact ${revision}`);
    this.history = 0;
  }
  async defragment(endpoint: string) {
    this.calls.push(`defragment ${endpoint}`);
    this.file = this.live + this.history;
  }
  async disarmNospace() {
    this.calls.push('disarm');
    this.nospace = false;
  }
}

const logger = (): MaintainerLogger & { lines: string[] } => {
  const lines: string[] = [];
  return { lines, info: (_o, m) => lines.push(`info ${m}`), warn: (_o, m) => lines.push(`warn ${m}`), error: (_o, m) => lines.push(`error ${m}`) };
};

describe('EtcdMaintainer', () => {
  it('recovers from NOSPACE in one tick: compact, defragment, disarm, counted', async () => {
    const etcd = new FakeEtcd();
    const registry = new Registry();
    const log = logger();
    const maintainer = new EtcdMaintainer(etcd, { quotaBytes: 100 * MiB, logger: log, registry, policy: defaultMaintenancePolicy(60_000) });
    await maintainer.tick();
    expect(etcd.calls).toEqual(['compact 100', 'defragment e1', 'disarm']);
    expect(etcd.nospace).toBe(false);
    expect(log.lines).toEqual(['info etcd compact', 'info etcd defragment', 'info etcd NOSPACE alarm disarmed']);
    const text = await registry.metrics();
    expect(text).toContain('wharf_etcd_maintenance_actions_total{action="compact"} 1');
    expect(text).toContain('wharf_etcd_maintenance_actions_total{action="disarm"} 1');
    await maintainer.tick();
    expect(etcd.calls).toHaveLength(3); // nothing left to do
  });

  it('logs a failed tick and goes on at the next one', async () => {
    const etcd = new FakeEtcd();
    etcd.failNext = new Error('14 UNAVAILABLE');
    const log = logger();
    const maintainer = new EtcdMaintainer(etcd, { quotaBytes: 100 * MiB, logger: log });
    await maintainer.tick();
    expect(log.lines).toEqual(['warn etcd maintenance failed; trying again next tick']);
    await maintainer.tick();
    expect(etcd.nospace).toBe(false);
  });

  it('says once, not every tick, when it cannot free enough', async () => {
    const etcd = new FakeEtcd();
    etcd.live = 95 * MiB;
    const log = logger();
    const maintainer = new EtcdMaintainer(etcd, { quotaBytes: 100 * MiB, logger: log });
    await maintainer.tick();
    await maintainer.tick();
    expect(etcd.nospace).toBe(true);
    expect(log.lines.filter((l) => l.startsWith('error'))).toEqual([expect.stringMatching(/full of live data/)]);
  });
});
