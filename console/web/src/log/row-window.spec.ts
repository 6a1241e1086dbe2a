import { MAX_CONTENT_PX, rowWindow, scrollTopFor } from './row-window';

const base = { rowPx: 18, viewportPx: 180, overscan: 2 };

describe('rowWindow', () => {
  it('renders nothing for an empty log', () => {
    expect(rowWindow({ ...base, total: 0, scrollTop: 0 })).toEqual({ from: 0, to: -1, topPx: 0, contentPx: 0 });
  });

  it('below the height cap: row i sits at i x rowPx and the rows on screen (plus overscan) are rendered', () => {
    expect(rowWindow({ ...base, total: 1000, scrollTop: 0 })).toEqual({ from: 0, to: 12, topPx: 0, contentPx: 18_000 });
    // Scrolled to row 100 and a bit: rows 98..112, the first at its own offset.
    const w = rowWindow({ ...base, total: 1000, scrollTop: 100 * 18 + 5 });
    expect(w).toEqual({ from: 98, to: 112, topPx: 98 * 18, contentPx: 18_000 });
    // At the very end the last row is rendered.
    const end = rowWindow({ ...base, total: 1000, scrollTop: 1e9 });
    expect(end.to).toBe(999);
    expect(end.topPx + (990 - end.from) * 18).toBe(18_000 - 180);
  });

  it('a short log renders every row', () => {
    expect(rowWindow({ ...base, total: 3, scrollTop: 0 })).toEqual({ from: 0, to: 2, topPx: 0, contentPx: 54 });
  });

  it('past the cap the scroll range is scaled: top shows row 0, bottom shows the last rows, the middle the middle', () => {
    const total = 10_000_000;
    const top = rowWindow({ ...base, total, scrollTop: 0 });
    expect(top).toMatchObject({ from: 0, topPx: 0, contentPx: MAX_CONTENT_PX });
    const max = MAX_CONTENT_PX - 180;
    const bottom = rowWindow({ ...base, total, scrollTop: max });
    expect(bottom.to).toBe(total - 1);
    // The last row ends where the viewport ends.
    expect(bottom.topPx + (total - bottom.from) * 18).toBeCloseTo(MAX_CONTENT_PX, 3);
    const middle = rowWindow({ ...base, total, scrollTop: max / 2 });
    expect(Math.abs(middle.from + base.overscan - (total - 10) / 2)).toBeLessThanOrEqual(1);
    // Rendered rows stay within the content.
    expect(middle.topPx).toBeGreaterThanOrEqual(0);
    expect(middle.topPx + (middle.to - middle.from + 1) * 18).toBeLessThanOrEqual(MAX_CONTENT_PX + 18 * 3);
  });

  it('scrollTopFor puts a row in the middle of the viewport, below and past the cap', () => {
    for (const total of [1000, 10_000_000]) {
      for (const row of [0, 17, Math.floor(total / 2), total - 1]) {
        const w = rowWindow({ ...base, total, scrollTop: scrollTopFor(row, { total, rowPx: 18, viewportPx: 180 }) });
        expect(row).toBeGreaterThanOrEqual(w.from);
        expect(row).toBeLessThanOrEqual(w.to);
      }
    }
    expect(scrollTopFor(5, { total: 3, rowPx: 18, viewportPx: 180 })).toBe(0);
  });
});
