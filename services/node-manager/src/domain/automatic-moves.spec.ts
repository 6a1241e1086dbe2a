import type { NodeRecord } from '@wharf/nodes';
import { nextAutomaticMove, type MovePolicy } from './automatic-moves';
import { nextConditions, type Condition, type Observation } from './conditions';

const ok: Observation = {
  runtime_reachable: { ok: true, message: 'ping' },
  disk_pressure: { ok: true, message: '10%' },
  memory_pressure: { ok: true, message: '10%' },
  etcd_reachable: { ok: true, message: 'ok' },
  clock_skew: { ok: true, message: '0 ms' },
};
const failing = (rounds: number): Condition[] => {
  let cs = nextConditions([], ok, 0);
  for (let i = 0; i < rounds; i++) cs = nextConditions(cs, { ...ok, disk_pressure: { ok: false, message: '99% of / used' } }, i + 1);
  return cs;
};
const node = (state: NodeRecord['state'], cordoned = false): NodeRecord => ({
  id: 'n1',
  address: '127.0.0.1',
  state,
  cordoned,
  roles: ['compute'],
  labels: {},
  registeredMs: 0,
  version: 1,
  transitions: [],
});
const docker: MovePolicy = { failAfter: 3, migration: 'none' };

describe('nextAutomaticMove', () => {
  const healthy = nextConditions([], ok, 0);

  it.each([
    ['NEW', false, healthy, 'init'],
    ['NEW', false, failing(1), undefined],
    ['NEW', false, [], undefined],
    ['INITED', false, healthy, 'online'],
    ['INITED', true, healthy, undefined],
    ['INITED', true, failing(3), 'fail'],
    ['INITED', false, failing(2), undefined],
    ['READY', false, healthy, undefined],
    ['READY', false, failing(2), undefined],
    ['READY', false, failing(3), 'fail'],
    ['ERROR_DETECTED', false, healthy, 'migrated'],
    ['ERROR', false, healthy, undefined],
    ['OFFLINE', false, healthy, undefined],
  ] as const)('%s (cordoned %s) -> %s', (state, cordoned, conditions, action) => {
    expect(nextAutomaticMove(node(state, cordoned), conditions, docker)?.action).toBe(action);
  });

  it('names the failing condition in the reason', () => {
    expect(nextAutomaticMove(node('READY'), failing(3), docker)?.reason).toBe('condition disk_pressure failing: 99% of / used');
  });

  it('leaves ERROR_DETECTED to the runtime when replicas can move', () => {
    expect(nextAutomaticMove(node('ERROR_DETECTED'), healthy, { failAfter: 3, migration: 'runtime' })).toBeUndefined();
  });
});
