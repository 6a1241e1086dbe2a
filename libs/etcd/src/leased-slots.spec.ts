import { rendezvousOwner, slotOf } from './leased-slots';

describe('rendezvousOwner', () => {
  const parts = Array.from({ length: 64 }, (_, p) => p);

  it('gives every partition one owner, the same on every instance, whatever the member order', () => {
    const a = parts.map((p) => rendezvousOwner(['a', 'b', 'c'], p));
    const b = parts.map((p) => rendezvousOwner(['c', 'a', 'b'], p));
    expect(a).toEqual(b);
    for (const m of ['a', 'b', 'c']) expect(a.filter((o) => o === m).length).toBeGreaterThan(8);
  });

  it('moves only the partitions of a member that leaves', () => {
    const before = parts.map((p) => rendezvousOwner(['a', 'b', 'c'], p));
    const after = parts.map((p) => rendezvousOwner(['a', 'c'], p));
    parts.forEach((p) => {
      if (before[p] !== 'b') expect(after[p]).toBe(before[p]);
      else expect(['a', 'c']).toContain(after[p]);
    });
    expect(rendezvousOwner([], 0)).toBeUndefined();
  });
});

describe('slotOf', () => {
  it('puts an id in the same slot every time, spread over all slots', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `tenant.app.component-${i}`);
    expect(ids.map((id) => slotOf(id, 16))).toEqual(ids.map((id) => slotOf(id, 16)));
    const counts = new Array(16).fill(0);
    for (const id of ids) counts[slotOf(id, 16)]++;
    for (const c of counts) expect(c).toBeGreaterThan(60);
    expect(slotOf('anything', 1)).toBe(0);
  });
});
