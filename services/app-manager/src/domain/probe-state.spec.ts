import type { ProbeSpec } from './desired';
import { applyProbeResult, healthOf, newProbeState, nextProbeAtMs, probeReason, STARTUP_INTERVAL_MS, type ProbeState } from './probe-state';

const probe: ProbeSpec = { kind: 'http', path: '/healthz', port: 8080, command: [], initialDelayMs: 1000, periodMs: 2000, failureThreshold: 3 };
const ok = { ok: true, output: 'HTTP 200' };
const bad = { ok: false, output: 'HTTP 503: not yet' };

/** Runs the probe whenever it is due, with results from `at(ms)`, up to `untilMs`. */
function drive(s: ProbeState, at: (ms: number) => { ok: boolean; output: string }, untilMs: number): ProbeState {
  for (let i = 0; i < 10_000; i++) {
    const next = nextProbeAtMs(s, probe);
    if (next > untilMs) return s;
    s = applyProbeResult(s, probe, at(next), next);
  }
  throw new Error('probe loop did not end');
}

describe('probe state', () => {
  it('waits for the initial delay, then probes fast until the first pass', () => {
    const s = newProbeState(0);
    expect(nextProbeAtMs(s, probe)).toBe(1000);
    const once = applyProbeResult(s, probe, bad, 1000);
    expect(nextProbeAtMs(once, probe)).toBe(1000 + STARTUP_INTERVAL_MS);
    expect(healthOf(once)).toBe('starting');
  });

  it('is ready at the first pass, then probed every period', () => {
    const s = drive(newProbeState(0), (ms) => (ms >= 1600 ? ok : bad), 1700);
    expect(healthOf(s)).toBe('ready');
    expect(s.readySinceMs).toBe(1600);
    expect(nextProbeAtMs(s, probe)).toBe(1600 + probe.periodMs);
  });

  it('fails when it never passes for failure_threshold periods after the delay', () => {
    const early = drive(newProbeState(0), () => bad, 1000 + 3 * 2000 - 1);
    expect(healthOf(early)).toBe('starting');
    expect(probeReason(early, probe)).toBe('probe http :8080/healthz failing: HTTP 503: not yet');
    const late = drive(early, () => bad, 1000 + 3 * 2000 + STARTUP_INTERVAL_MS);
    expect(healthOf(late)).toBe('failed');
  });

  it('turns unready after threshold failures once ready, failed after as many again, and ready on a pass in between', () => {
    let s = drive(newProbeState(0), (ms) => (ms < 1200 ? ok : bad), 1000 + 2 * 2000);
    expect(healthOf(s)).toBe('ready');
    s = drive(s, () => bad, 1000 + 3 * 2000);
    expect(healthOf(s)).toBe('unready');
    const recovered = applyProbeResult(s, probe, ok, 8000);
    expect(healthOf(recovered)).toBe('ready');
    s = drive(s, () => bad, 1000 + 6 * 2000);
    expect(healthOf(s)).toBe('failed');
    expect(healthOf(applyProbeResult(s, probe, ok, 20_000))).toBe('failed');
  });
});
