import { eventsV1 } from '@wharf/contracts';

/**
 * The final-status rules, pure. An operation:
 *  - fails as soon as a step finishes with failure (its message and name are kept);
 *  - when the producer says it is done (OperationDone): succeeds if every step it started
 *    finished with success, fails naming the first step still open otherwise;
 *  - times out when nothing reported for `timeoutMs` since its last report;
 *  - times out, never started, when nothing at all reported for `startTimeoutMs` since it could
 *    start: since it was requested, or, queued behind another operation on the same target,
 *    since that one finished.
 * A decision is made once; later frames are still stored but never change it.
 */
export type StepState = 'running' | 'success' | 'failure';

export interface FinalDecision {
  status: eventsV1.OperationStatus.SUCCESS | eventsV1.OperationStatus.FAILURE | eventsV1.OperationStatus.TIMEOUT;
  message: string;
  failedStep: string;
}

/** What an operation reported, folded from its frames in order (foldReport), and its decision once made. */
export interface OperationProgress {
  /** Steps in the order they first started, each with its latest state. */
  readonly steps: Map<string, StepState>;
  /** The first step that finished with failure, with its message. */
  failure?: { step: string; message: string };
  /** The producer said it reported everything. */
  done: boolean;
  /** The decision, once made (finalStatus()): it never changes after. */
  final?: FinalDecision;
}

export type ReportBody =
  { kind: 'step_started'; step: string } | { kind: 'step_finished'; step: string; ok: boolean; message: string } | { kind: 'line' } | { kind: 'done' };

/** The clocks of an operation, for the timeout rules. */
export interface OperationTiming {
  nowMs: number;
  /** When it last reported; undefined: it never reported anything. */
  lastReportMs?: number;
  /** Silence after a report that times it out. */
  timeoutMs: number;
  /** Never reported: since when it could start (undefined: still queued behind another, no clock runs). */
  waitingSinceMs?: number;
  /** Silence since it could start that times out an operation that never reported (undefined: no such rule). */
  startTimeoutMs?: number;
}

export function newProgress(): OperationProgress {
  return { steps: new Map(), done: false };
}

/** Folds one report into the facts of the progress; the decision is finalStatus()'s. */
export function foldReport(progress: OperationProgress, body: ReportBody): void {
  switch (body.kind) {
    case 'step_started':
      // A step restarted after finishing (a retry) is running again.
      progress.steps.set(body.step, 'running');
      return;
    case 'step_finished':
      progress.steps.set(body.step, body.ok ? 'success' : 'failure');
      if (!body.ok && !progress.failure) progress.failure = { step: body.step, message: body.message || `step ${body.step} failed` };
      return;
    case 'line':
      return;
    case 'done':
      progress.done = true;
      return;
  }
}

/**
 * The operation's final status from what it reported and, given timing, from its silence:
 * the decision already made if there is one, else a new one, else undefined (still running).
 */
export function finalStatus(progress: Readonly<OperationProgress>, timing?: OperationTiming): FinalDecision | undefined {
  if (progress.final) return progress.final;
  if (progress.failure) return { status: eventsV1.OperationStatus.FAILURE, message: progress.failure.message, failedStep: progress.failure.step };
  if (progress.done) {
    const open = firstRunning(progress.steps);
    if (open === undefined) return { status: eventsV1.OperationStatus.SUCCESS, message: '', failedStep: '' };
    return { status: eventsV1.OperationStatus.FAILURE, message: `step ${open} did not finish before the operation was done`, failedStep: open };
  }
  if (!timing) return undefined;
  if (timing.lastReportMs !== undefined) {
    if (timing.nowMs - timing.lastReportMs < timing.timeoutMs) return undefined;
    const running = lastRunning(progress.steps);
    return {
      status: eventsV1.OperationStatus.TIMEOUT,
      message: `no report for ${seconds(timing.timeoutMs)}${running === undefined ? '' : ` (step ${running} was running)`}`,
      failedStep: running ?? '',
    };
  }
  if (timing.startTimeoutMs === undefined || timing.waitingSinceMs === undefined) return undefined;
  if (timing.nowMs - timing.waitingSinceMs < timing.startTimeoutMs) return undefined;
  return { status: eventsV1.OperationStatus.TIMEOUT, message: `never started: nothing reported within ${seconds(timing.startTimeoutMs)}`, failedStep: '' };
}

/**
 * When a requested operation that has reported nothing could have started: at its request,
 * or when the operation before it on the same target finished (the api-gateway hands a queued
 * operation to the workers only then). undefined while that one is still unfinished: queued,
 * so no clock runs yet.
 */
export function waitingSince(requestedMs: number, predecessor?: { finishedMs?: number }): number | undefined {
  if (!predecessor) return requestedMs;
  if (predecessor.finishedMs === undefined) return undefined;
  return Math.max(requestedMs, predecessor.finishedMs);
}

function firstRunning(steps: ReadonlyMap<string, StepState>): string | undefined {
  for (const [name, state] of steps) if (state === 'running') return name;
  return undefined;
}

function lastRunning(steps: ReadonlyMap<string, StepState>): string | undefined {
  let last: string | undefined;
  for (const [name, state] of steps) if (state === 'running') last = name;
  return last;
}

/** 600000 -> "600 s", 1500 -> "1.5 s". */
function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
