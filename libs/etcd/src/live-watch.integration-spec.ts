import { startEtcd, startTcpProxy, waitFor, type EtcdInstance, type TcpProxy } from '@wharf/testing';
import { createEtcdClient, watchLive, type Etcd3 } from './index';

describe('watchLive against a real etcd', () => {
  let etcd: EtcdInstance;
  let proxy: TcpProxy;
  let direct: Etcd3;
  let cutOff: Etcd3;

  beforeAll(async () => {
    etcd = await startEtcd();
    proxy = await startTcpProxy(etcd.endpoint);
    direct = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    cutOff = createEtcdClient({ endpoints: [proxy.endpoint], security: etcd.security });
  });
  afterAll(async () => {
    cutOff.close();
    direct.close();
    await proxy.close();
    await etcd.destroy();
  });

  it('keeps watching after a disconnect during which its revision was compacted, and asks for a resync', async () => {
    const seen: Record<string, string[]> = { a: [], b: [] };
    const resyncs: Record<string, number> = { a: 0, b: 0 };
    // Two watches on one client share etcd3's watch stream (mq and event-log have several).
    const watches = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const w = await watchLive(cutOff, `/lw/${name}/`);
        w.on('put', (kv) => seen[name].push(kv.key.toString()));
        w.on('delete', (kv) => seen[name].push(`-${kv.key.toString()}`));
        w.on('resync', () => resyncs[name]++);
        return w;
      }),
    );
    await direct.put('/lw/a/1').value('x');
    await direct.put('/lw/b/1').value('x');
    await waitFor('the first events', async () => (seen.a.length === 1 && seen.b.length === 1 ? true : undefined));
    expect(resyncs).toEqual({ a: 0, b: 0 });

    await proxy.cut();
    await direct.put('/lw/a/2').value('missed while away');
    for (let i = 0; i < 20; i++) await direct.put('/churn').value(String(i));
    await direct.kv.compact({ revision: (await direct.maintenance.status()).header.revision });
    await proxy.restore();

    await waitFor('resyncs after the reconnect', async () => (resyncs.a > 0 && resyncs.b > 0 ? true : undefined), 30_000);
    // Changes while a watch is being re-created are covered by the resync that follows it; the
    // watch is alive again when a fresh change arrives as an event.
    let n = 0;
    await waitFor('events after the reconnect', async () => {
      n++;
      await direct.put(`/lw/a/after${n}`).value('x');
      await direct.put(`/lw/b/after${n}`).value('x');
      return seen.a.some((k) => k.startsWith('/lw/a/after')) && seen.b.some((k) => k.startsWith('/lw/b/after')) ? true : undefined;
    });
    await direct.delete().key('/lw/b/1');
    await waitFor('a delete', async () => (seen.b.includes('-/lw/b/1') ? true : undefined));
    for (const w of watches) await w.cancel();
    await direct.put('/lw/a/4').value('after cancel');
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.a).not.toContain('/lw/a/4');
  });
});
