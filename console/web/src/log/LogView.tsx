import { memo, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { api, dcPath } from '../api';
import type { LogEntryLike, LogStore } from './log-store';
import { rowWindow, scrollTopFor } from './row-window';

const ROW_PX = 18;
const OVERSCAN = 8;

interface Props {
  dc: string;
  eventId: string;
  store: LogStore;
  version: number;
  visible: React.MutableRefObject<{ from: number; to: number }>;
}

/**
 * One row. Rows are keyed by slot, row i in slot i % n for a window of n rows: a row that stays
 * on screen keeps its node, and one that comes takes the node of one that left (moved and given
 * its text), so a window sliding at its size never makes or drops nodes. A row whose line,
 * number and highlight did not change is not rendered again.
 */
const Row = memo(function Row({ index, text, hit }: { index: number; text: string | undefined; hit: boolean }) {
  return (
    <div className={`log-line${text === undefined ? ' loading' : ''}${hit ? ' hit' : ''}`}>
      <span className="ln">{index + 1}</span>
      {text ?? '…'}
    </div>
  );
});

/**
 * The log of one operation, virtualized: only the rows on screen are in the DOM (fixed-height
 * rows, the window computed in O(1) by rowWindow), the lines in a bounded LogStore; rows whose
 * chunk was evicted are fetched back from history when scrolled to. Follows the end until the
 * user scrolls up. Search runs over the whole log on the server; download streams the whole log.
 * Memoized: the timeline's clock ticking re-renders nothing here; a new `version` (new lines) does.
 */
export const LogView = memo(function LogView({ dc, eventId, store, version, visible }: Props) {
  const parent = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const [, refetched] = useState(0);
  const [query, setQuery] = useState('');
  const [matches, setMatches] = useState<{ seq: number; text: string }[] | null>(null);
  const [searchError, setSearchError] = useState<string | null>(null);
  const [current, setCurrent] = useState(0);
  const [scroll, setScroll] = useState({ top: 0, viewport: 0 });
  // Following, the window is the end's in this very render (the scrollTop written below catches up without a blank frame).
  // (No overscan while following: nothing is below the end, and no one sees above it before scrolling, which stops following.)
  const win = rowWindow({
    total: store.total,
    rowPx: ROW_PX,
    viewportPx: scroll.viewport,
    scrollTop: follow ? Infinity : scroll.top,
    overscan: follow ? 1 : OVERSCAN,
  });
  const from = win.from;
  const to = Math.max(win.from, win.to);
  visible.current = { from, to };
  const hitSeq = matches?.[current]?.seq;
  const slots = Math.max(1, win.to - win.from + 1);

  // The viewport's height, now and when it is resized.
  useLayoutEffect(() => {
    const el = parent.current;
    if (!el) return;
    const measure = () => setScroll((s) => (s.viewport === el.clientHeight ? s : { ...s, viewport: el.clientHeight }));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // Rows on screen whose lines are not here: fetch their chunks back from history.
  useEffect(() => {
    for (const index of store.missing(from, to)) {
      const { afterSeq, limit } = store.range(index);
      void api<{ entries: LogEntryLike[] }>('GET', dcPath(dc, `/operations/${encodeURIComponent(eventId)}/entries?after_seq=${afterSeq}&limit=${limit}`))
        .then((page) => {
          store.put(page.entries, store.chunksOf(visible.current.from, visible.current.to));
          refetched((n) => n + 1);
        })
        .catch(() => undefined)
        .finally(() => store.inFlight.delete(index));
    }
  }, [from, to, version, dc, eventId, store, visible]);

  // Following: stay at the end. The end is known from the window (content height) and the
  // viewport (measured by the ResizeObserver), so nothing here reads layout; the one scrollTop
  // write lays out once, in the same frame as the render (use-operation renders in the frame).
  const written = useRef(-1);
  useLayoutEffect(() => {
    const el = parent.current;
    if (!follow || !el || store.total === 0) return;
    const end = Math.max(0, win.contentPx - scroll.viewport);
    if (end !== written.current) {
      written.current = end;
      el.scrollTop = end;
    }
  }, [version, follow, store.total, win.contentPx, scroll.viewport]);

  // Scroll events come many a frame: the window is moved once per animation frame. Following
  // at the end, the window does not depend on scrollTop: nothing is rendered for the scroll
  // that following itself made.
  const frame = useRef(0);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);
  const onScroll = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const el = parent.current;
      if (!el) return;
      const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < ROW_PX * 2;
      setFollow((f) => (f === atEnd ? f : atEnd));
      if (atEnd && follow) {
        // Nudged a little but still at the end: the next render puts it back exactly.
        if (el.scrollTop !== written.current) written.current = -1;
        return setScroll((s) => (s.viewport === el.clientHeight ? s : { ...s, viewport: el.clientHeight }));
      }
      written.current = -1;
      setScroll((s) => (s.top === el.scrollTop && s.viewport === el.clientHeight ? s : { top: el.scrollTop, viewport: el.clientHeight }));
    });
  };

  const search = async () => {
    setSearchError(null);
    if (!query.trim()) return setMatches(null);
    try {
      const res = await api<{ matches: { seq: number; text: string }[] }>(
        'GET',
        `/api/v1/dcs/${encodeURIComponent(dc)}/operations/${encodeURIComponent(eventId)}/search?q=${encodeURIComponent(query)}`,
      );
      setMatches(res.matches);
      setCurrent(0);
      if (res.matches[0]) jump(res.matches[0].seq);
    } catch (err) {
      setSearchError((err as Error).message);
    }
  };
  const jump = (seq: number) => {
    setFollow(false);
    const el = parent.current;
    if (el) el.scrollTop = scrollTopFor(seq - 1, { total: store.total, rowPx: ROW_PX, viewportPx: el.clientHeight });
  };

  return (
    <div className="log">
      <div className="log-bar">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void search();
          }}
        >
          <input aria-label="search the log" placeholder="search the whole log" value={query} onChange={(e) => setQuery(e.target.value)} maxLength={200} />
          <button type="submit">Search</button>
        </form>
        {matches && (
          <span className="muted" data-matches={matches.length}>
            {matches.length ? `${current + 1} of ${matches.length}${matches.length >= 200 ? '+' : ''}` : 'no match'}
            {matches.length > 1 && (
              <>
                <button
                  type="button"
                  onClick={() => (
                    setCurrent((current + matches.length - 1) % matches.length),
                    jump(matches[(current + matches.length - 1) % matches.length].seq)
                  )}
                >
                  ↑
                </button>
                <button type="button" onClick={() => (setCurrent((current + 1) % matches.length), jump(matches[(current + 1) % matches.length].seq))}>
                  ↓
                </button>
              </>
            )}
          </span>
        )}
        {searchError && <small className="error">{searchError}</small>}
        <span className="muted" data-lines={store.total}>
          {store.total.toLocaleString()} lines
        </span>
        <label>
          <input
            type="checkbox"
            checked={follow}
            onChange={(e) => {
              // Following, the window did not track scrollTop: take it now, where the view is.
              const el = parent.current;
              if (!e.target.checked && el) setScroll({ top: el.scrollTop, viewport: el.clientHeight });
              written.current = -1;
              setFollow(e.target.checked);
            }}
          />{' '}
          follow
        </label>
        <a href={`/api/v1/dcs/${encodeURIComponent(dc)}/operations/${encodeURIComponent(eventId)}/log`} download>
          Download
        </a>
      </div>
      <div ref={parent} className="log-lines" onScroll={onScroll} data-testid="log-lines">
        <div style={{ height: win.contentPx, position: 'relative' }}>
          {/* One positioned block of rows in normal flow: a frame moves one transform, not one per row. */}
          <div style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${win.topPx}px)` }}>
            {Array.from({ length: win.to - win.from + 1 }, (_, k) => {
              const index = win.from + k;
              return <Row key={index % slots} index={index} text={store.line(index)} hit={hitSeq === index + 1} />;
            })}
          </div>
        </div>
      </div>
    </div>
  );
});
