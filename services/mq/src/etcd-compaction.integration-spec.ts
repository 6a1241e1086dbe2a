import { createEtcdClient, type Etcd3 } from '@wharf/etcd';
import { startEtcd, startMq, startTcpProxy, waitFor, type EtcdInstance, type RunningMq, type TcpProxy } from '@wharf/testing';

const payload = (s: string) => new TextEncoder().encode(s);

describe('mq after etcd compacted the revision its watch was at', () => {
  let etcd: EtcdInstance;
  let proxy: TcpProxy;
  let direct: Etcd3;
  let cutOff: RunningMq;
  let other: RunningMq;

  beforeAll(async () => {
    etcd = await startEtcd();
    proxy = await startTcpProxy(etcd.endpoint);
    direct = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    // Compaction is done by hand here.
    const env = { WHARF_ETCD_MAINTENANCE: 'false' };
    [cutOff, other] = await Promise.all([startMq({ ...etcd, endpoint: proxy.endpoint }, env), startMq(etcd, env)]);
  });
  afterAll(async () => {
    await Promise.all([cutOff?.stop(), other?.stop()]);
    direct?.close();
    await proxy?.close();
    await etcd?.destroy();
  });

  it('still frees a Subscribe slot when a task is acked through another instance (its watch came back)', async () => {
    const topic = 'compacted';
    const controller = new AbortController();
    // Leases far longer than the test: a slot freed by lease expiry would time the test out.
    const iterator = cutOff.client.subscribe({ topic, consumer: 'c', leaseMs: 600_000, maxInFlight: 1 }, { signal: controller.signal })[Symbol.asyncIterator]();

    await proxy.cut();
    for (let i = 0; i < 20; i++) await direct.put('/churn').value(String(i));
    await direct.kv.compact({ revision: (await direct.maintenance.status()).header.revision });
    await proxy.restore();
    await waitFor('the cut-off mq reaching etcd again', async () => ((await fetch(`http://${cutOff.http}/health`)).ok ? true : undefined), 30_000);

    for (let i = 0; i < 3; i++) await other.client.enqueue({ topic, taskId: `x${i}`, payload: payload('x') });
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = (await iterator.next()).value!.delivery!;
      seen.push(d.task!.taskId);
      await other.client.ack({ topic, taskId: d.task!.taskId, leaseId: d.leaseId });
    }
    controller.abort();
    await iterator.next().catch(() => undefined);
    expect(seen.sort()).toEqual(['x0', 'x1', 'x2']);
    expect(cutOff.process.child.exitCode).toBeNull();
    expect(cutOff.process.output()).toMatch(/task watch cancelled by etcd; watching again/);
  });
});
