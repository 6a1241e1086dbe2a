import type { Entry } from './live';

export interface StepNode {
  name: string;
  status: 'running' | 'success' | 'failure';
  startedMs: number | null;
  finishedMs: number | null;
  message: string;
  children: StepNode[];
  /** Never reported itself: only named as the parent of a/b. Its status is its children's. */
  implicit: boolean;
}

export interface TimelineView {
  /** Top-level steps; a step named a/b is a child of a. */
  roots: StepNode[];
  byName: Map<string, StepNode>;
  final?: { status: 'success' | 'failure' | 'timeout'; message: string; failedStep: string; atMs: number };
  firstMs: number | null;
  lines: number;
  lastSeq: number;
}

export const emptyView = (): TimelineView => ({ roots: [], byName: new Map(), firstMs: null, lines: 0, lastSeq: 0 });

function node(view: TimelineView, name: string): StepNode {
  let n = view.byName.get(name);
  if (n) return n;
  n = { name, status: 'running', startedMs: null, finishedMs: null, message: '', children: [], implicit: true };
  view.byName.set(name, n);
  const parent = name.includes('/') ? node(view, name.slice(0, name.lastIndexOf('/'))) : undefined;
  (parent ? parent.children : view.roots).push(n);
  return n;
}

/** Folds entries into the step tree (mutates and returns the view). */
export function foldView(view: TimelineView, entries: readonly Entry[]): TimelineView {
  for (const e of entries) {
    view.lastSeq = Math.max(view.lastSeq, e.seq);
    view.firstMs ??= e.stored_ms;
    if (e.type === 'step_started') {
      const n = node(view, e.step);
      n.startedMs ??= e.stored_ms;
      n.implicit = false;
    } else if (e.type === 'step_finished')
      Object.assign(node(view, e.step), { status: e.status, finishedMs: e.stored_ms, message: e.message, implicit: false });
    else if (e.type === 'line') view.lines++;
    else view.final = { status: e.status, message: e.message, failedStep: e.failed_step, atMs: e.stored_ms };
  }
  return view;
}

export const duration = (ms: number) =>
  ms < 1000 ? `${ms} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

/** A step's status as shown: its own, or for a parent only named by its children, theirs (failed if one failed, done when all are). */
export function shownStatus(n: StepNode): StepNode['status'] {
  if (!n.implicit || n.children.length === 0) return n.status;
  const kids = n.children.map(shownStatus);
  return kids.includes('failure') ? 'failure' : kids.every((k) => k === 'success') ? 'success' : 'running';
}
