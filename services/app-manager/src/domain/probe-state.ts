import type { ProbeSpec } from './desired';
import type { Health } from './plan';

/**
 * The health of one replica from its probe results (pure): delay, period and failure
 * threshold as the component declares them.
 *  - Before its first pass a replica is probed every startupIntervalMs, so a replica that
 *    listens after 300 ms is ready after about 300 ms, not after a whole period; it fails (and
 *    is replaced, or its rollout aborted) once its probe has failed for failure_threshold
 *    periods in a row since the initial delay: the patience the component asked for.
 *  - Once ready it is probed every period: failure_threshold failures in a row make it unready
 *    (it leaves the endpoints); as many again make it failed (it is replaced, like a liveness
 *    probe), and a pass makes it ready again.
 */
export interface ProbeState {
  startedAtMs: number;
  ready: boolean;
  everReady: boolean;
  failed: boolean;
  consecutiveFailures: number;
  /** First failure of the current run of failures. */
  failingSinceMs?: number;
  readySinceMs?: number;
  lastRunMs?: number;
  lastOutput: string;
}

export const STARTUP_INTERVAL_MS = 100;

export function newProbeState(startedAtMs: number): ProbeState {
  return { startedAtMs, ready: false, everReady: false, failed: false, consecutiveFailures: 0, lastOutput: '' };
}

/** When the probe should run next. */
export function nextProbeAtMs(s: ProbeState, p: ProbeSpec): number {
  const first = s.startedAtMs + p.initialDelayMs;
  if (s.lastRunMs === undefined) return first;
  return s.lastRunMs + (s.everReady ? p.periodMs : Math.min(STARTUP_INTERVAL_MS, p.periodMs));
}

export function applyProbeResult(s: ProbeState, p: ProbeSpec, result: { ok: boolean; output: string }, nowMs: number): ProbeState {
  const next: ProbeState = { ...s, lastRunMs: nowMs, lastOutput: result.output };
  if (s.failed) return next;
  if (result.ok) {
    next.consecutiveFailures = 0;
    next.failingSinceMs = undefined;
    if (!s.ready) next.readySinceMs = nowMs;
    next.ready = true;
    next.everReady = true;
    return next;
  }
  next.consecutiveFailures = s.consecutiveFailures + 1;
  next.failingSinceMs = s.failingSinceMs ?? nowMs;
  const window = p.periodMs * p.failureThreshold;
  if (!s.everReady) {
    // Counted from the end of the initial delay, so a slow start is not punished twice.
    const since = Math.max(next.failingSinceMs, s.startedAtMs + p.initialDelayMs);
    if (nowMs - since >= window) next.failed = true;
    return next;
  }
  if (next.consecutiveFailures >= p.failureThreshold) {
    next.ready = false;
    next.readySinceMs = undefined;
  }
  if (next.consecutiveFailures >= 2 * p.failureThreshold) next.failed = true;
  return next;
}

export function healthOf(s: ProbeState | undefined): Health {
  if (!s) return 'starting';
  if (s.failed) return 'failed';
  if (s.ready) return 'ready';
  return s.everReady ? 'unready' : 'starting';
}

/** The reason a probe gives for a replica that is not ready. */
export function probeReason(s: ProbeState, p: ProbeSpec): string | undefined {
  if (s.ready || s.consecutiveFailures === 0) return undefined;
  const what =
    p.kind === 'http'
      ? `http :${p.port}${p.path}`
      : p.kind === 'tcp'
        ? `tcp :${p.port}`
        : p.kind === 'command'
          ? `command ${JSON.stringify(p.command)}`
          : 'running';
  return `probe ${what} failing: ${s.lastOutput || 'no output'}`;
}
