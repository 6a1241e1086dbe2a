import type { NodeRecord } from './node-record';
import { placementBlocker } from './placement';

const node = (id: string, state: NodeRecord['state'], o: Partial<NodeRecord> = {}): NodeRecord => ({
  id,
  address: '127.0.0.1',
  state,
  cordoned: false,
  roles: ['compute'],
  labels: {},
  registeredMs: 0,
  version: 1,
  transitions: [],
  ...o,
});

describe('placementBlocker', () => {
  it('lets replicas go where a READY compute node is', () => {
    expect(placementBlocker([node('a', 'READY'), node('b', 'ERROR')])).toBeUndefined();
  });

  it('says no READY compute node is left, naming each and the cordon', () => {
    expect(placementBlocker([node('host', 'INITED', { cordoned: true }), node('gw', 'READY', { roles: ['gateway'] })])).toBe(
      'no READY compute node is left (host INITED (cordoned)): new replicas cannot be placed; running replicas are left alone',
    );
    expect(placementBlocker([node('gw', 'READY', { roles: ['gateway'] })])).toContain('no node has the compute role');
    expect(placementBlocker([node('a', 'OFFLINE')])).toContain('no node has the compute role');
  });
  it("needs a READY compute node with the component's placement labels", () => {
    const nodes = [node('a', 'READY', { labels: { zone: 'a' } }), node('b', 'INITED', { labels: { zone: 'b' }, cordoned: true })];
    expect(placementBlocker(nodes, { zone: 'a' })).toBeUndefined();
    expect(placementBlocker(nodes, { zone: 'b' })).toBe(
      'no READY compute node has the placement labels zone=b (READY: a): new replicas cannot be placed; running replicas are left alone',
    );
    expect(placementBlocker(nodes, { 'kubernetes.io/hostname': 'a' })).toBeUndefined();
  });
});
