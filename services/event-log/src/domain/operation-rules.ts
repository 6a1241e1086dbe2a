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

export interface OperationProgress {
  /** Steps in the order they started. */
  readonly steps: Map<string, StepState>;
  final?: FinalDecision;
}

export type ReportBody =
  { kind: 'step_started'; step: string } | { kind: 'step_finished'; step: string; ok: boolean; message: string } | { kind: 'line' } | { kind: 'done' };

export function newProgress(): OperationProgress {
  return { steps: new Map() };
}

/** Folds one report into the progress; returns the decision if this report made it. */
export function applyReport(progress: OperationProgress, body: ReportBody): FinalDecision | undefined {
  switch (body.kind) {
    case 'step_started':
      // A step restarted after finishing (a retry) is running again.
      progress.steps.set(body.step, 'running');
      break;
    case 'step_finished':
      progress.steps.set(body.step, body.ok ? 'success' : 'failure');
      if (!body.ok && !progress.final) {
        progress.final = { status: eventsV1.OperationStatus.FAILURE, message: body.message || `step ${body.step} failed`, failedStep: body.step };
        return progress.final;
      }
      break;
    case 'line':
      break;
    case 'done': {
      if (progress.final) break;
      const failed = [...progress.steps].find(([, s]) => s === 'failure');
      const open = [...progress.steps].find(([, s]) => s === 'running');
      if (failed) progress.final = { status: eventsV1.OperationStatus.FAILURE, message: `step ${failed[0]} failed`, failedStep: failed[0] };
      else if (open)
        progress.final = {
          status: eventsV1.OperationStatus.FAILURE,
          message: `step ${open[0]} did not finish before the operation was done`,
          failedStep: open[0],
        };
      else progress.final = { status: eventsV1.OperationStatus.SUCCESS, message: '', failedStep: '' };
      return progress.final;
    }
  }
  return undefined;
}

/** The timeout decision, if the operation has been silent for too long. */
export function timeoutDecision(progress: OperationProgress, lastReportMs: number, nowMs: number, timeoutMs: number): FinalDecision | undefined {
  if (progress.final || nowMs - lastReportMs < timeoutMs) return undefined;
  const open = [...progress.steps].filter(([, s]) => s === 'running').map(([name]) => name);
  progress.final = {
    status: eventsV1.OperationStatus.TIMEOUT,
    message: `no report for ${seconds(timeoutMs)}${open.length ? ` (step ${open[open.length - 1]} was running)` : ''}`,
    failedStep: open[open.length - 1] ?? '',
  };
  return progress.final;
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

/** The decision for an operation that has reported nothing: `startTimeoutMs` after it could start. */
export function startTimeoutDecision(progress: OperationProgress, waitingSinceMs: number, nowMs: number, startTimeoutMs: number): FinalDecision | undefined {
  if (progress.final || nowMs - waitingSinceMs < startTimeoutMs) return undefined;
  progress.final = { status: eventsV1.OperationStatus.TIMEOUT, message: `never started: nothing reported within ${seconds(startTimeoutMs)}`, failedStep: '' };
  return progress.final;
}

/** 600000 -> "600 s", 1500 -> "1.5 s". */
function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

export const TRUNCATION_MARKER = '…[truncated';

/** Cuts a line to maxBytes of UTF-8 (never inside a character) and says how much was dropped. */
export function truncateLine(text: string, maxBytes: number): { text: string; truncated: boolean } {
  if (text.length <= maxBytes / 3) return { text, truncated: false };
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return { text, truncated: false };
  const buf = Buffer.from(text, 'utf8');
  let end = maxBytes;
  // Step back over UTF-8 continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return { text: `${buf.subarray(0, end).toString('utf8')}${TRUNCATION_MARKER} ${bytes - end} bytes]`, truncated: true };
}

export const EVENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
export const STEP = /^[A-Za-z0-9._:/ -]{1,128}$/;
export const PRODUCER = /^[A-Za-z0-9._:@-]{0,128}$/;
export const TARGET = /^[a-z][a-z0-9-]*\/[A-Za-z0-9._:-]{1,128}$/;

/** 32-bit FNV-1a of the event id: the partition is hash mod N (stable across instances and restarts). */
export function partitionOf(eventId: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < eventId.length; i++) {
    h ^= eventId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}
