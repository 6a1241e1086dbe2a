import type { TimelineEntry } from '@wharf/event-log-client';

export interface StepState {
  name: string;
  status: 'running' | 'success' | 'failure';
  startedMs: number | null;
  finishedMs: number | null;
  message: string;
  lines: number;
}

/** What an operation's timeline says so far: its steps in the order they started, its lines, its final status. */
export interface TimelineState {
  steps: Map<string, StepState>;
  lines: number;
  lastSeq: number;
  final?: { status: 'success' | 'failure' | 'timeout'; message: string; failedStep: string; atMs: number };
  firstMs: number | null;
}

export const emptyTimeline = (): TimelineState => ({ steps: new Map(), lines: 0, lastSeq: 0, firstMs: null });

/** Folds entries in (pure apart from mutating `state`). Steps named a/b nest under a in the tree. */
export function foldTimeline(state: TimelineState, entries: readonly TimelineEntry[]): TimelineState {
  for (const e of entries) {
    state.lastSeq = Math.max(state.lastSeq, e.seq);
    state.firstMs ??= e.stored_ms;
    switch (e.type) {
      case 'step_started':
        if (!state.steps.has(e.step))
          state.steps.set(e.step, { name: e.step, status: 'running', startedMs: e.stored_ms, finishedMs: null, message: '', lines: 0 });
        break;
      case 'step_finished': {
        const s = state.steps.get(e.step) ?? { name: e.step, status: 'running', startedMs: null, finishedMs: null, message: '', lines: 0 };
        s.status = e.status;
        s.finishedMs = e.stored_ms;
        s.message = e.message;
        state.steps.set(e.step, s);
        break;
      }
      case 'line': {
        state.lines++;
        const s = state.steps.get(e.step);
        if (s) s.lines++;
        break;
      }
      case 'final':
        state.final = { status: e.status, message: e.message, failedStep: e.failed_step, atMs: e.stored_ms };
        break;
    }
  }
  return state;
}

export const formatMs = (ms: number) =>
  ms < 1000 ? `${ms} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

const depth = (name: string) => name.split('/').length - 1;

/** The printed form of one entry as it arrives (a log line, a step starting or ending, the final status). */
export function renderEntry(state: TimelineState, e: TimelineEntry, color = false): string | undefined {
  const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  switch (e.type) {
    case 'line':
      return `${paint(2, `[${e.step || '-'}]`)} ${e.level === 'error' ? paint(31, e.text) : e.level === 'warn' ? paint(33, e.text) : e.text}`;
    case 'step_started':
      return `${'  '.repeat(depth(e.step))}${paint(36, '▶')} ${e.step}`;
    case 'step_finished': {
      const s = state.steps.get(e.step);
      const took = s?.startedMs != null ? ` (${formatMs(e.stored_ms - s.startedMs)})` : '';
      return e.status === 'success'
        ? `${'  '.repeat(depth(e.step))}${paint(32, '✔')} ${e.step}${took}`
        : `${'  '.repeat(depth(e.step))}${paint(31, '✖')} ${e.step}${took}: ${e.message}`;
    }
    case 'final':
      return undefined; // summarised by renderSummary
  }
}

/** The end of a followed operation: its status, how long it took, and on failure the failing step and why. */
export function renderSummary(kind: string, state: TimelineState): string {
  const f = state.final;
  if (!f) return `${kind}: no final status yet`;
  const took = state.firstMs != null ? ` in ${formatMs(f.atMs - state.firstMs)}` : '';
  if (f.status === 'success') return `✔ ${kind} succeeded${took}`;
  const at = f.failedStep ? ` at step ${f.failedStep}` : '';
  return `✖ ${kind} ${f.status === 'timeout' ? 'timed out' : 'failed'}${at}${took}: ${f.message || 'no message'}`;
}

/** The one-line progress display (a terminal's status line): the running steps, lines so far, time. */
export function renderProgress(state: TimelineState, nowMs: number, spin: number): string {
  const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
  const running = [...state.steps.values()].filter((s) => s.status === 'running').map((s) => s.name);
  const done = [...state.steps.values()].filter((s) => s.status !== 'running').length;
  const took = state.firstMs != null ? formatMs(Math.max(0, nowMs - state.firstMs)) : 'waiting for a worker';
  return `${frames[spin % frames.length]} ${running.length ? running.join(', ') : 'pending'} · ${done}/${state.steps.size} steps · ${state.lines} lines · ${took}`;
}
