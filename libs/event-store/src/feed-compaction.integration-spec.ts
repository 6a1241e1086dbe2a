import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { startEtcd, startTcpProxy, waitFor, type EtcdInstance, type TcpProxy } from '@wharf/testing';
import { EtcdEventStore, FEED_START, type RecordedEvent } from './index';

const requested = (eventId: string) => create(eventsV1.OperationRequestedSchema, { eventId, kind: eventsV1.OperationKind.DEPLOY, tenantId: 't1' });
const idOf = (e: RecordedEvent) => (e.message as eventsV1.OperationRequested).eventId;

describe('the feed after the revision it was at was compacted', () => {
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

  it('catches up a subscriber cut off while events were written and compacted: no gap, no duplicate, in order', async () => {
    const keys = new KeyLayout('/feedc');
    const writer = new EtcdEventStore({ client: direct, keys });
    const reader = new EtcdEventStore({ client: cutOff, keys });
    const seen: RecordedEvent[] = [];
    const apps: string[] = [];
    const sub = reader.subscribe(FEED_START, (e) => void seen.push(e));
    // A second subscription on the same client shares etcd3's one watch stream (event-log's shape).
    const appSub = reader.subscribe(FEED_START, (e) => void apps.push(idOf(e)), { streamPrefix: 'app/' });
    await Promise.all([sub.caughtUp, appSub.caughtUp]);
    const expected: string[] = [];
    const append = async (id: string, stream = `component/c${expected.length % 3}`) => {
      expected.push(id);
      await writer.append(stream, [{ message: requested(id) }], 'any');
    };
    for (let i = 0; i < 5; i++) await append(`before${i}`);
    await waitFor('events before the cut', async () => (seen.length === 5 ? true : undefined));

    await proxy.cut();
    for (let i = 0; i < 10; i++) {
      await append(`during${i}`);
      await direct.put('/churn/x').value(String(i)); // other writes move the revision on
    }
    await writer.append('app/a1', [{ message: requested('app-during') }], 'any');
    expected.push('app-during');
    const head = (await direct.maintenance.status()).header.revision;
    await direct.kv.compact({ revision: head });
    await expect(direct.kv.range({ key: Buffer.from('/churn/x'), revision: String(BigInt(head) - 1n) })).rejects.toThrow(/compacted/);
    await proxy.restore();

    for (let i = 0; i < 5; i++) await append(`after${i}`);
    await waitFor('every event after the reconnect', async () => (seen.length >= expected.length ? true : undefined), 30_000);
    await waitFor('the app subscription', async () => (apps.length >= 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show up if there were one
    await Promise.all([sub.close(), appSub.close()]);

    expect(seen.map(idOf)).toEqual(expected);
    expect(apps).toEqual(['app-during']);
    const positions = seen.map((e) => BigInt(e.position));
    for (let i = 1; i < positions.length; i++) expect(positions[i] > positions[i - 1]).toBe(true);
    expect(sub.position).toBe(seen.at(-1)!.position);
  });

  it('catches up from a position that is already compacted away (a projection restarting from an old snapshot)', async () => {
    const keys = new KeyLayout('/feedold');
    const store = new EtcdEventStore({ client: direct, keys });
    const first = await store.append('component/x', [{ message: requested('e1') }], 0);
    await store.append('component/x', [{ message: requested('e2') }], 1);
    await direct.put('/churn/y').value('y');
    await direct.kv.compact({ revision: (await direct.maintenance.status()).header.revision });
    const later: string[] = [];
    const sub = store.subscribe(first.position, (e) => void later.push(idOf(e)));
    await sub.caughtUp;
    await store.append('component/x', [{ message: requested('e3') }], 2);
    await waitFor('the live event', async () => (later.length === 2 ? true : undefined));
    await sub.close();
    expect(later).toEqual(['e2', 'e3']);
  });
});
