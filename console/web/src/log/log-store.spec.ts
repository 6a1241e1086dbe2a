import fc from 'fast-check';
import { entryText, LogStore } from './log-store';

const line = (seq: number) => ({ seq, type: 'line', step: 'build', text: `line ${seq}` });

describe('LogStore', () => {
  it('keeps memory bounded while a million lines stream in, and always has the live tail', () => {
    const store = new LogStore({ chunkSize: 1000, maxChunks: 20 });
    for (let seq = 1; seq <= 1_000_000; seq += 500) store.put(Array.from({ length: 500 }, (_, i) => line(seq + i)));
    expect(store.total).toBe(1_000_000);
    expect(store.chunkCount).toBeLessThanOrEqual(20);
    expect(store.line(999_999)).toBe('[build] line 1000000');
    expect(store.line(0)).toBeUndefined(); // evicted: fetched back when scrolled to
  });

  it('says which chunks a scrolled-to range needs, once, and serves them after put', () => {
    const store = new LogStore({ chunkSize: 100, maxChunks: 5 });
    store.put(Array.from({ length: 1000 }, (_, i) => line(i + 1)));
    expect(store.missing(150, 260)).toEqual([1, 2]);
    expect(store.missing(150, 260)).toEqual([]); // in flight
    expect(store.range(1)).toEqual({ afterSeq: 100, limit: 100 });
    store.put(
      Array.from({ length: 200 }, (_, i) => line(101 + i)),
      store.chunksOf(150, 260),
    );
    store.inFlight.clear();
    expect(store.line(150)).toBe('[build] line 151');
    expect(store.line(260)).toBe('[build] line 261');
    expect(store.chunkCount).toBeLessThanOrEqual(5);
  });

  it('never evicts what is on screen or the tail (property: any put order)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 300 }), fc.integer({ min: 0, max: 4999 }), (seqs, visible) => {
        const store = new LogStore({ chunkSize: 50, maxChunks: 4 });
        store.put([line(5000)]);
        const keep = store.chunksOf(visible, visible);
        store.put([line(visible + 1)], keep);
        for (const s of seqs) store.put([line(s)], keep);
        expect(store.chunkCount).toBeLessThanOrEqual(4 + keep.size);
        expect(store.line(visible)).toBe(`[build] line ${visible + 1}`);
        expect(store.line(4999)).toBe('[build] line 5000');
      }),
    );
  });

  it('renders every kind of entry as one line', () => {
    expect(entryText({ seq: 1, type: 'step_started', step: 'build' })).toBe('▶ build');
    expect(entryText({ seq: 2, type: 'step_finished', step: 'build', status: 'failure', message: 'exit 1' })).toBe('✖ build: exit 1');
    expect(entryText({ seq: 3, type: 'final', status: 'success', message: '' })).toBe('== success');
  });
});
