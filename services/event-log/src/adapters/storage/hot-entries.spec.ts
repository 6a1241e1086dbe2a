import fc from 'fast-check';
import { HotEntries } from './hot-entries';
import { encodeRecord } from './record-codec';
import type { EntryRecord } from '../../domain/records';

const line = (s: number, x: string): EntryRecord => ({ k: 'l', e: 'op-1', t: 1000 + s, s, lv: 2, st: 'build', x, tm: 900 + s });

describe('HotEntries', () => {
  it('behaves like a plain array of the entries under any mix of appends, trims and drops', () => {
    type Step = { op: 'push'; text: string } | { op: 'keepLast'; n: number } | { op: 'dropBefore'; back: number } | { op: 'clear' };
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('push' as const), text: fc.string({ maxLength: 300, unit: 'binary' }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('keepLast' as const), n: fc.nat(20) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('dropBefore' as const), back: fc.nat(25) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), fc.nat(20), fc.nat(20), (steps, a, b) => {
        const hot = new HotEntries();
        let model: EntryRecord[] = [];
        let seq = 0;
        for (const s of steps) {
          if (s.op === 'push') {
            const e = line(++seq, s.text);
            hot.push(e.s, encodeRecord(e));
            model.push(e);
          } else if (s.op === 'keepLast') {
            hot.keepLast(s.n);
            model = model.slice(Math.max(0, model.length - s.n));
          } else if (s.op === 'dropBefore') {
            hot.dropBefore(seq - s.back);
            model = model.filter((e) => e.s >= seq - s.back);
          } else {
            hot.clear();
            model = [];
          }
          expect(hot.length).toBe(model.length);
        }
        // Any window: what is kept comes back decoded, equal to what went in.
        const from = (model[0]?.s ?? seq + 1) + a - 10;
        const to = from + b;
        const got = hot.slice(from, to);
        if (model.length === 0 || from < model[0].s) expect(got).toBeUndefined();
        else expect(got).toEqual(model.filter((e) => e.s >= from && e.s <= to));
      }),
      { numRuns: 300 },
    );
  });

  it('starts over when a seq does not follow the last one', () => {
    const hot = new HotEntries();
    hot.push(1, encodeRecord(line(1, 'a')));
    hot.push(2, encodeRecord(line(2, 'b')));
    hot.push(7, encodeRecord(line(7, 'c')));
    expect(hot.firstSeq).toBe(7);
    expect(hot.slice(7, 7)).toEqual([line(7, 'c')]);
    expect(hot.slice(1, 7)).toBeUndefined();
  });
});
