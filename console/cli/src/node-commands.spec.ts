import { changeLabels, describeNode, health, nodeId, type NodeView } from './node-commands';

const node = (over: Partial<NodeView> = {}): NodeView => ({
  id: 'node-1',
  address: '10.0.0.1',
  state: 'READY',
  cordoned: false,
  roles: ['compute'],
  labels: { zone: 'a' },
  version: 4,
  allowed_actions: ['cordon', 'fail', 'offline'],
  heartbeat: { alive: true, age_ms: 1200, runtime: 'docker' },
  capacity: { cpu_millis: 2000, memory_bytes: 4 * 2 ** 30, disk_bytes: 100 * 2 ** 30 },
  usage: { cpu_millis: 500, memory_bytes: 2 ** 30, disk_bytes: 40 * 2 ** 30 },
  conditions: [{ type: 'runtime_reachable', ok: true, message: '', last_change_ms: 1 }],
  transitions: [{ action: 'online', from: 'INITED', to: 'READY', reason: 'checks passed', actor: 'node-manager', at_ms: Date.UTC(2026, 0, 1) }],
  ...over,
});

describe('wharf node', () => {
  it('sets KEY=VALUE and removes KEY- keeping the other labels; names what it cannot read', () => {
    expect(changeLabels({ zone: 'a', disk: 'hdd' }, ['disk=ssd', 'zone-', 'rack=r1'])).toEqual({ disk: 'ssd', rack: 'r1' });
    expect(changeLabels({}, ['empty='])).toEqual({ empty: '' });
    expect(() => changeLabels({}, [])).toThrow(/at least one label/);
    expect(() => changeLabels({}, ['zone'])).toThrow(/"zone": expected KEY=VALUE \(set\) or KEY- \(remove\)/);
    expect(() => changeLabels({}, ['zone-'])).toThrow(/label "zone" is not set/);
  });

  it('refuses a node id the data center would refuse, before calling it', () => {
    expect(nodeId('node-1.dc')).toBe('node-1.dc');
    for (const bad of ['Node', '-a', 'a-', 'a/b', 'x'.repeat(53), '']) expect(() => nodeId(bad)).toThrow(/must be 1-52 characters/);
  });

  it('says a node is healthy, silent, or which conditions fail and why', () => {
    expect(health(node())).toBe('ok');
    expect(health(node({ heartbeat: { alive: false } }))).toBe('no heartbeat');
    expect(
      health(
        node({
          conditions: [
            { type: 'disk_pressure', ok: false, message: '95% used', last_change_ms: 2 },
            { type: 'clock_skew', ok: false, message: '', last_change_ms: 2 },
          ],
        }),
      ),
    ).toBe('disk_pressure (95% used), clock_skew');
  });

  it("describes one node with its next moves (an administrator's only), use, conditions and history", () => {
    const text = describeNode(node({ state: 'INITED', cordoned: true, allowed_actions: ['uncordon', 'fail', 'offline'] }));
    expect(text).toContain('state      INITED (cordoned: no new replicas)');
    expect(text).toContain('next       uncordon, offline');
    expect(text).toContain('memory     1.0 GiB of 4.0 GiB');
    expect(text).toContain('ok   runtime_reachable');
    expect(text).toContain('labels     zone=a');
    expect(text).toContain('2026-01-01T00:00:00.000Z online: INITED -> READY (checks passed, node-manager)');
  });
});
