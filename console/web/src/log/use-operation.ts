import { useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import { api, dcPath } from '../api';
import { followOperation, type Entry } from '../live';
import { emptyView, foldView, type TimelineView } from '../timeline-state';
import { LogStore } from './log-store';
import { RenderPacer } from './render-pacer';

/** Lines kept in the browser: 100 chunks of 1,000 (a few MB), whatever the log's length. */
export const STORE_OPTIONS = { chunkSize: 1000, maxChunks: 100 };
/** How far back from the end the live view starts: older lines come from history when scrolled to. */
const LIVE_FROM_END = 1000;
/**
 * Renders while lines stream are paced (RenderPacer): ten a second read as live and leave most
 * frames free of work (at 5,000 lines/s a render per animation frame made long frames on a busy
 * machine), fewer while renders are slow. Each render runs inside its animation frame
 * (flushSync), so its DOM changes, the follow scroll and the frame's own style, layout and paint
 * are one pass, not a task of React's scheduler that lays out on its own and then again for the
 * frame.
 */

interface StepRecord {
  name: string;
  status: 'running' | 'success' | 'failure';
  message: string | null;
  started_at_ms: number | null;
  finished_at_ms: number | null;
}

export interface OperationState {
  store: LogStore;
  view: TimelineView;
  /** Bumped (at most once a frame) when something new came. */
  version: number;
  error: string | null;
  /** Rows on screen, to keep their chunks when evicting. */
  visible: React.MutableRefObject<{ from: number; to: number }>;
}

/**
 * One operation, live: its steps (the data center's record, then every entry folded on top),
 * and its log in a bounded LogStore, followed from near the end; re-renders at the pacer's pace
 * however fast lines come (5,000 a second stay smooth).
 */
export function useOperation(dc: string, tenant: string, eventId: string): OperationState {
  const store = useMemo(() => new LogStore(STORE_OPTIONS), [dc, eventId]);
  const viewRef = useRef<TimelineView>(emptyView());
  const visible = useRef({ from: 0, to: 0 });
  const [version, bump] = useReducer((n: number) => n + 1, 0);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    viewRef.current = emptyView();
    let cancelled = false;
    let frame = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastRender = 0;
    const pacer = new RenderPacer();
    const render = () => {
      frame = 0;
      const started = performance.now();
      flushSync(bump);
      lastRender = performance.now();
      pacer.rendered(lastRender - started);
    };
    const schedule = () => {
      if (frame || timer) return;
      const wait = pacer.intervalMs - (performance.now() - lastRender);
      if (wait <= 0) frame = requestAnimationFrame(render);
      else timer = setTimeout(() => ((timer = undefined), (frame = requestAnimationFrame(render))), wait);
    };
    let stop = () => undefined as void;
    void (async () => {
      try {
        const op = await api<{ steps: StepRecord[] | null }>(
          'GET',
          dcPath(dc, `/tenants/${encodeURIComponent(tenant)}/operations/${encodeURIComponent(eventId)}`),
        );
        const head = await api<{ operation: { last_seq: number } }>(
          'GET',
          dcPath(dc, `/operations/${encodeURIComponent(eventId)}/entries?after_seq=0&limit=1`),
        ).catch(() => ({
          operation: { last_seq: 0 },
        }));
        if (cancelled) return;
        const view = viewRef.current;
        // Steps before the live window come from the record the data center keeps (event-log folds them).
        for (const s of op.steps ?? []) {
          foldView(view, [{ seq: 0, stored_ms: s.started_at_ms ?? 0, type: 'step_started', step: s.name }]);
          if (s.status !== 'running')
            foldView(view, [{ seq: 0, stored_ms: s.finished_at_ms ?? 0, type: 'step_finished', step: s.name, status: s.status, message: s.message ?? '' }]);
        }
        const from = Math.max(0, head.operation.last_seq - LIVE_FROM_END);
        store.total = Math.max(store.total, head.operation.last_seq);
        schedule();
        stop = followOperation(
          dc,
          eventId,
          from,
          (entries: Entry[]) => {
            store.put(entries, store.chunksOf(visible.current.from, visible.current.to));
            // Steps already folded from the record are not folded twice.
            foldView(
              view,
              entries.filter((e) => e.type !== 'step_started' || !view.byName.has(e.step)),
            );
            schedule();
          },
          (message) => setError(message),
        );
      } catch (err) {
        if (!cancelled) setError((err as Error).message);
      }
    })();
    return () => {
      cancelled = true;
      if (frame) cancelAnimationFrame(frame);
      if (timer) clearTimeout(timer);
      stop();
    };
  }, [dc, tenant, eventId, store]);

  return { store, view: viewRef.current, version, error, visible };
}
