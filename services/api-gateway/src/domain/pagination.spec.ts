import fc from 'fast-check';
import { mapPage, pageAfter, pageOfSorted, paginate } from './pagination';

const id = (s: string) => s;

/** Follows next_cursor from the first page to the last. */
function walk(page: (cursor?: string) => { items: string[]; next_cursor: string | null }): string[] {
  const out: string[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const p = page(cursor);
    out.push(...p.items);
    if (p.next_cursor === null) return out;
    cursor = p.next_cursor;
  }
  throw new Error('pages never ended');
}

describe('pagination', () => {
  it('pages through every item once, in key order, whatever the limit (against a sorted array)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 })), fc.integer({ min: 1, max: 7 }), (keys, limit) => {
        const expected = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(walk((cursor) => paginate([...keys], id, { limit, cursor }))).toEqual(expected);
        expect(walk((cursor) => pageOfSorted(expected, id, { limit, cursor }))).toEqual(expected);
      }),
    );
  });

  it('continues after a cursor that is no longer in the list, and ends with next_cursor null', () => {
    const sorted = ['a', 'c', 'e'];
    expect(pageOfSorted(sorted, id, { limit: 1, cursor: 'b' })).toEqual({ items: ['c'], next_cursor: 'c' });
    expect(pageOfSorted(sorted, id, { limit: 5, cursor: 'b' })).toEqual({ items: ['c', 'e'], next_cursor: null });
    expect(pageOfSorted(sorted, id, { limit: 2, cursor: 'z' })).toEqual({ items: [], next_cursor: null });
    expect(pageOfSorted(sorted, id, { limit: 3 })).toEqual({ items: sorted, next_cursor: null });
    expect(pageOfSorted(sorted, id, { limit: 2, cursor: '' })).toEqual({ items: ['a', 'c'], next_cursor: 'c' });
  });

  it('pages a list in its own order after the item named by the cursor, and says when there is no such item', () => {
    const newest = ['v3', 'v2', 'v1'];
    expect(pageAfter(newest, id, { limit: 2 })).toEqual({ items: ['v3', 'v2'], next_cursor: 'v2' });
    expect(pageAfter(newest, id, { limit: 2, cursor: 'v2' })).toEqual({ items: ['v1'], next_cursor: null });
    expect(pageAfter(newest, id, { limit: 2, cursor: 'v9' })).toBeUndefined();
    expect(walk((cursor) => pageAfter(newest, id, { limit: 1, cursor })!)).toEqual(newest);
  });

  it('maps the items of a page and keeps its cursor', () => {
    expect(mapPage({ items: ['a'], next_cursor: 'a' }, (s) => s.toUpperCase())).toEqual({ items: ['A'], next_cursor: 'a' });
  });
});
