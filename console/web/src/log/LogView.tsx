import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState } from 'react';
import { api, dcPath } from '../api';
import type { LogEntryLike, LogStore } from './log-store';

const ROW_PX = 18;

interface Props {
  dc: string;
  eventId: string;
  store: LogStore;
  version: number;
  visible: React.MutableRefObject<{ from: number; to: number }>;
}

/**
 * The log of one operation, virtualized: only the rows on screen are in the DOM, the lines
 * in a bounded LogStore; rows whose chunk was evicted are fetched back from history when
 * scrolled to. Follows the end until the user scrolls up. Search runs over the whole log on
 * the server; download streams the whole log.
 */
export function LogView({ dc, eventId, store, version, visible }: Props) {
  const parent = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const [, refetched] = useState(0);
  const [query, setQuery] = useState('');
  const [matches, setMatches] = useState<{ seq: number; text: string }[] | null>(null);
  const [searchError, setSearchError] = useState<string | null>(null);
  const [current, setCurrent] = useState(0);
  const rows = useVirtualizer({ count: store.total, getScrollElement: () => parent.current, estimateSize: () => ROW_PX, overscan: 8 });
  const items = rows.getVirtualItems();
  const from = items[0]?.index ?? 0;
  const to = items[items.length - 1]?.index ?? 0;
  visible.current = { from, to };

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

  // Following: stay at the end. Setting scrollTop once costs one layout (scrollToIndex measures and may render twice).
  useEffect(() => {
    const el = parent.current;
    if (follow && el && store.total > 0) el.scrollTop = el.scrollHeight;
  }, [version, follow, store.total]);

  const onScroll = () => {
    const el = parent.current;
    if (!el) return;
    const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < ROW_PX * 2;
    if (atEnd !== follow) setFollow(atEnd);
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
    rows.scrollToIndex(seq - 1, { align: 'center' });
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
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> follow
        </label>
        <a href={`/api/v1/dcs/${encodeURIComponent(dc)}/operations/${encodeURIComponent(eventId)}/log`} download>
          Download
        </a>
      </div>
      <div ref={parent} className="log-lines" onScroll={onScroll} data-testid="log-lines">
        <div style={{ height: rows.getTotalSize(), position: 'relative' }}>
          {items.map((row) => {
            const text = store.line(row.index);
            const hit = matches?.[current]?.seq === row.index + 1;
            return (
              <div
                key={row.key}
                className={`log-line${text === undefined ? ' loading' : ''}${hit ? ' hit' : ''}`}
                style={{ position: 'absolute', top: 0, transform: `translateY(${row.start}px)`, height: ROW_PX }}
              >
                <span className="ln">{row.index + 1}</span>
                {text ?? '…'}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
