import fc from 'fast-check';
import { allowedActions, NODE_ACTIONS, NODE_STATES, nodeStateName, nodeStateValue, transition, type NodeStateName } from './lifecycle';

// The table, written out once more by hand: every (state, action) pair is checked against it.
const EXPECTED: Record<NodeStateName, Partial<Record<string, NodeStateName>>> = {
  NEW: { init: 'INITED', offline: 'OFFLINE' },
  INITED: { online: 'READY', uncordon: 'READY', fail: 'ERROR_DETECTED', offline: 'OFFLINE' },
  READY: { cordon: 'INITED', fail: 'ERROR_DETECTED', offline: 'OFFLINE' },
  ERROR_DETECTED: { migrated: 'ERROR', offline: 'OFFLINE' },
  ERROR: { repair: 'NEW', offline: 'OFFLINE' },
  OFFLINE: {},
};

describe('node lifecycle', () => {
  const pairs = NODE_STATES.flatMap((s) => NODE_ACTIONS.map((a) => [s, a] as const));

  it.each(pairs)('%s + %s follows the table', (state, action) => {
    const result = transition(state, action);
    const to = EXPECTED[state][action];
    if (to) expect(result).toEqual({ ok: true, from: state, to, action });
    else {
      expect(result.ok).toBe(false);
      if (result.ok) return;
      // The refusal names the current state and every allowed move.
      expect(result.message).toContain(`node is ${state}`);
      expect(result.message).toContain(`cannot ${action}`);
      for (const a of Object.keys(EXPECTED[state])) expect(result.message).toContain(a);
      expect(result.allowed).toEqual(Object.keys(EXPECTED[state]).sort((x, y) => NODE_ACTIONS.indexOf(x as never) - NODE_ACTIONS.indexOf(y as never)));
    }
  });

  it('allows nothing from OFFLINE and says so', () => {
    expect(allowedActions('OFFLINE')).toEqual([]);
    const r = transition('OFFLINE', 'repair');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toBe('node is OFFLINE: cannot repair; nothing is allowed from OFFLINE');
  });

  it('refuses a name that is no action, listing the actions', () => {
    const r = transition('READY', 'explode');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/"explode" is no node action \(init, online, .*offline\); allowed from READY: cordon, fail, offline/);
  });

  it('reaches OFFLINE from every state but OFFLINE in one move', () => {
    for (const s of NODE_STATES) expect(transition(s, 'offline').ok).toBe(s !== 'OFFLINE');
  });

  it('any walk of random actions only ever visits states the table reaches (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...NODE_ACTIONS), fc.string({ maxLength: 8 })), { maxLength: 40 }), (actions) => {
        let state: NodeStateName = 'NEW';
        for (const a of actions) {
          const r = transition(state, a);
          const expected: NodeStateName | undefined = Object.hasOwn(EXPECTED[state], a) ? EXPECTED[state][a] : undefined;
          if (expected === undefined) {
            if (r.ok) return false;
          } else {
            if (!r.ok || r.to !== expected) return false;
            state = r.to;
          }
        }
        return true;
      }),
    );
  });

  it('maps every state to its proto value and back', () => {
    for (const s of NODE_STATES) expect(nodeStateName(nodeStateValue(s))).toBe(s);
    expect(nodeStateName(0)).toBeUndefined();
  });
});
