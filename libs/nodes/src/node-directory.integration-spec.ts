import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { startEtcd, type EtcdInstance } from '@wharf/testing';
import { NodeDirectory } from './node-directory';
import { nodeStream } from './node-record';

describe('NodeDirectory on a real etcd', () => {
  let etcd: EtcdInstance;
  let client: Etcd3;
  let store: EtcdEventStore;
  let nodes: NodeDirectory;
  const actor = 'user:test';

  beforeAll(async () => {
    etcd = await startEtcd();
    client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    store = new EtcdEventStore({ client, keys: new KeyLayout('/nd') });
    nodes = new NodeDirectory(client, new KeyLayout('/nd'), store);
  });
  afterAll(async () => {
    client?.close();
    await etcd?.destroy();
  });

  it('registers once; a second registration finds the stream and changes nothing', async () => {
    expect(await nodes.register({ nodeId: 'a', address: '10.0.0.1', roles: ['compute'], labels: { zone: 'z1' } }, actor)).toBe(true);
    expect(await nodes.register({ nodeId: 'a', address: '10.0.0.9', roles: [], labels: {} }, actor)).toBe(false);
    expect(await nodes.record('a')).toMatchObject({ id: 'a', address: '10.0.0.1', state: 'NEW', roles: ['compute'], labels: { zone: 'z1' }, version: 1 });
    expect(await nodes.ids()).toEqual(['a']);
  });

  it('writes exactly one move when many writers race for it (optimistic concurrency)', async () => {
    await nodes.change('a', 'init', { reason: 'checks', actor });
    await nodes.change('a', 'online', { reason: 'up', actor });
    const results = await Promise.all(Array.from({ length: 8 }, () => nodes.change('a', 'fail', { reason: 'lost', actor, ifAllowed: true })));
    expect(results.filter(Boolean)).toHaveLength(1);
    const fails = (await store.read(nodeStream('a'))).filter((e) => (e.message as { action?: string }).action === 'fail');
    expect(fails).toHaveLength(1);
    expect((await nodes.record('a'))!.state).toBe('ERROR_DETECTED');
  });

  it('refuses a stale If-Match and changes on an OFFLINE node', async () => {
    const r = (await nodes.record('a'))!;
    await expect(nodes.setLabels('a', { zone: 'z2' }, { actor, expectedVersion: r.version - 1 })).rejects.toThrow(
      `node a is at version ${r.version}, not ${r.version - 1}`,
    );
    expect((await nodes.setLabels('a', { zone: 'z2' }, { actor, expectedVersion: r.version })).labels).toEqual({ zone: 'z2' });
    await nodes.change('a', 'offline', { reason: 'gone', actor });
    await expect(nodes.setRoles('a', ['gateway'], { actor })).rejects.toThrow('node a is OFFLINE: it takes no changes');
  });

  it('lists heartbeats from the keys and reads a damaged one as none', async () => {
    await nodes.register({ nodeId: 'b', address: '10.0.0.2', roles: ['compute'], labels: {} }, actor);
    await client.put(new KeyLayout('/nd').nodes.node('b')).value('{"nodeId":"b","timeMs":"5"}');
    await client.put(new KeyLayout('/nd').nodes.node('zz')).value('not json');
    const beats = await nodes.heartbeats();
    expect([...beats.keys()]).toEqual(['b']);
    expect((await nodes.get('b')).heartbeat?.timeMs).toBe(5n);
    await expect(nodes.get('nope')).rejects.toThrow('node nope not found');
  });
});
