/**
 * Which rows of a fixed-height list are on screen, in O(1) whatever the row count: no per-row
 * measurement (a virtualizer that measures keeps one record per row and recomputes them all
 * when the count grows: at a million rows, tens of milliseconds per render). Browsers cap an
 * element's height (Chrome near 33 million px), so past MAX_CONTENT_PX the scroll range is
 * scaled: the scrollbar maps linearly onto the rows and rows stay rowPx tall on screen.
 */
export const MAX_CONTENT_PX = 15_000_000;

export interface RowWindow {
  /** First and last row to render (overscan included); to < from when there is none. */
  from: number;
  to: number;
  /** Where row `from` sits, in px from the top of the content. */
  topPx: number;
  /** The content's height (the scroll range plus the viewport). */
  contentPx: number;
}

export interface WindowInput {
  total: number;
  rowPx: number;
  viewportPx: number;
  scrollTop: number;
  overscan: number;
}

function ranges(total: number, rowPx: number, viewportPx: number) {
  const realPx = total * rowPx;
  const contentPx = Math.min(realPx, MAX_CONTENT_PX);
  return { contentPx, maxScroll: Math.max(0, contentPx - viewportPx), realMaxScroll: Math.max(0, realPx - viewportPx) };
}

export function rowWindow({ total, rowPx, viewportPx, scrollTop, overscan }: WindowInput): RowWindow {
  const { contentPx, maxScroll, realMaxScroll } = ranges(total, rowPx, viewportPx);
  if (total <= 0) return { from: 0, to: -1, topPx: 0, contentPx: 0 };
  const top = Math.min(Math.max(0, scrollTop), maxScroll);
  // The position in the unscaled list that this scrollTop stands for.
  const virtualTop = maxScroll > 0 ? (top / maxScroll) * realMaxScroll : 0;
  const first = Math.min(total - 1, Math.floor(virtualTop / rowPx));
  const firstTopPx = top - (virtualTop - first * rowPx);
  const from = Math.max(0, first - overscan);
  const to = Math.min(total - 1, first + Math.ceil(viewportPx / rowPx) + overscan);
  return { from, to, topPx: firstTopPx - (first - from) * rowPx, contentPx };
}

/** The scrollTop that shows row `row` in the middle of the viewport (search hits). */
export function scrollTopFor(row: number, { total, rowPx, viewportPx }: Omit<WindowInput, 'scrollTop' | 'overscan'>): number {
  const { maxScroll, realMaxScroll } = ranges(total, rowPx, viewportPx);
  if (realMaxScroll === 0) return 0;
  const virtualTop = Math.min(realMaxScroll, Math.max(0, row * rowPx - (viewportPx - rowPx) / 2));
  return (virtualTop / realMaxScroll) * maxScroll;
}
