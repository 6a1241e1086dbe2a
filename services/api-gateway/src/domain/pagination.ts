/** One page of a list and the cursor of the next (null on the last page). */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface PageQuery {
  limit: number;
  /** The key of the last item of the previous page (empty: the first page). */
  cursor?: string;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A page of items already sorted by key: the first `limit` items whose key is greater than
 * the cursor, found by binary search, so a page costs O(log n + limit) and a cursor that
 * is no longer in the list (deleted since) still continues after it.
 */
export function pageOfSorted<T>(sorted: readonly T[], key: (t: T) => string, q: PageQuery): Page<T> {
  let lo = 0;
  let hi = sorted.length;
  while (q.cursor && lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(sorted[mid]) <= q.cursor) lo = mid + 1;
    else hi = mid;
  }
  const items = sorted.slice(lo, lo + q.limit);
  return { items, next_cursor: lo + q.limit < sorted.length ? key(items[items.length - 1]) : null };
}

/** Sorts `items` by key (in place) and pages them as pageOfSorted. */
export function paginate<T>(items: T[], key: (t: T) => string, q: PageQuery): Page<T> {
  return pageOfSorted(
    items.sort((a, b) => compare(key(a), key(b))),
    key,
    q,
  );
}

/**
 * A page of a list in its own order (e.g. newest first), after the item whose key is the
 * cursor; undefined when no item has that key (the caller says which cursor is unknown).
 */
export function pageAfter<T>(ordered: readonly T[], key: (t: T) => string, q: PageQuery): Page<T> | undefined {
  const start = q.cursor ? ordered.findIndex((t) => key(t) === q.cursor) + 1 : 0;
  if (q.cursor && start === 0) return undefined;
  const items = ordered.slice(start, start + q.limit);
  return { items, next_cursor: start + q.limit < ordered.length ? key(items[items.length - 1]) : null };
}

export function mapPage<T, U>(page: Page<T>, view: (t: T) => U): Page<U> {
  return { items: page.items.map(view), next_cursor: page.next_cursor };
}
