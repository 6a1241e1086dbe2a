import { eventsV1 } from '@wharf/contracts';
import { applyReport, newProgress, partitionOf, startTimeoutDecision, timeoutDecision, truncateLine, TRUNCATION_MARKER, waitingSince } from './operation-rules';

describe('final status rules', () => {
  it('succeeds when every step succeeded and the producer is done', () => {
    const p = newProgress();
    expect(applyReport(p, { kind: 'step_started', step: 'clone' })).toBeUndefined();
    expect(applyReport(p, { kind: 'step_finished', step: 'clone', ok: true, message: '' })).toBeUndefined();
    expect(applyReport(p, { kind: 'line' })).toBeUndefined();
    expect(applyReport(p, { kind: 'done' })).toEqual({ status: eventsV1.OperationStatus.SUCCESS, message: '', failedStep: '' });
  });

  it('fails at once when a step fails, keeping its message, and never decides again', () => {
    const p = newProgress();
    applyReport(p, { kind: 'step_started', step: 'build' });
    const d = applyReport(p, { kind: 'step_finished', step: 'build', ok: false, message: 'npm ERR! missing script' });
    expect(d).toEqual({ status: eventsV1.OperationStatus.FAILURE, message: 'npm ERR! missing script', failedStep: 'build' });
    expect(applyReport(p, { kind: 'step_finished', step: 'push', ok: false, message: 'other' })).toBeUndefined();
    expect(applyReport(p, { kind: 'done' })).toBeUndefined();
    expect(p.final?.failedStep).toBe('build');
  });

  it('fails on done while a step is still open', () => {
    const p = newProgress();
    applyReport(p, { kind: 'step_started', step: 'a' });
    applyReport(p, { kind: 'step_finished', step: 'a', ok: true, message: '' });
    applyReport(p, { kind: 'step_started', step: 'b' });
    expect(applyReport(p, { kind: 'done' })).toMatchObject({ status: eventsV1.OperationStatus.FAILURE, failedStep: 'b' });
  });

  it('a retried step that succeeds the second time does not fail the operation', () => {
    const p = newProgress();
    applyReport(p, { kind: 'step_started', step: 'pull' });
    applyReport(p, { kind: 'step_started', step: 'pull' });
    applyReport(p, { kind: 'step_finished', step: 'pull', ok: true, message: '' });
    expect(applyReport(p, { kind: 'done' })?.status).toBe(eventsV1.OperationStatus.SUCCESS);
  });

  it('an operation nothing picked up: its clock starts at the request, or when the one queued before it finished', () => {
    expect(waitingSince(1000)).toBe(1000);
    expect(waitingSince(1000, { finishedMs: undefined })).toBeUndefined();
    expect(waitingSince(1000, { finishedMs: 5000 })).toBe(5000);
    expect(waitingSince(9000, { finishedMs: 5000 })).toBe(9000);
  });

  it('times out an operation that never started only once the start timeout has passed, and once', () => {
    const p = newProgress();
    expect(startTimeoutDecision(p, 1000, 1000 + 59_999, 60_000)).toBeUndefined();
    expect(p.final).toBeUndefined();
    expect(startTimeoutDecision(p, 1000, 1000 + 60_000, 60_000)).toEqual({
      status: eventsV1.OperationStatus.TIMEOUT,
      message: 'never started: nothing reported within 60 s',
      failedStep: '',
    });
    expect(startTimeoutDecision(p, 1000, 1000 + 120_000, 60_000)).toBeUndefined();
  });

  it('times out after the configured silence only, naming the running step', () => {
    const p = newProgress();
    applyReport(p, { kind: 'step_started', step: 'deploy' });
    expect(timeoutDecision(p, 1000, 1000 + 59_999, 60_000)).toBeUndefined();
    expect(timeoutDecision(p, 1000, 1000 + 60_000, 60_000)).toMatchObject({ status: eventsV1.OperationStatus.TIMEOUT, failedStep: 'deploy' });
    expect(timeoutDecision(p, 1000, 1000 + 120_000, 60_000)).toBeUndefined();
  });
});

describe('truncateLine', () => {
  it('keeps short lines', () => {
    expect(truncateLine('hello', 10)).toEqual({ text: 'hello', truncated: false });
    expect(truncateLine('x'.repeat(100), 100)).toEqual({ text: 'x'.repeat(100), truncated: false });
  });

  it('cuts long lines with a marker saying how much was dropped', () => {
    const { text, truncated } = truncateLine('y'.repeat(150), 100);
    expect(truncated).toBe(true);
    expect(text).toBe(`${'y'.repeat(100)}${TRUNCATION_MARKER} 50 bytes]`);
  });

  it('never splits a multi-byte character', () => {
    const { text } = truncateLine('é'.repeat(100), 101); // 2 bytes each
    expect(text.startsWith('é'.repeat(50) + TRUNCATION_MARKER)).toBe(true);
    expect(text).not.toContain('\uFFFD');
  });
});

describe('partitionOf', () => {
  it('is stable and spreads ids over all partitions', () => {
    expect(partitionOf('evt-1', 16)).toBe(partitionOf('evt-1', 16));
    const seen = new Set(Array.from({ length: 1000 }, (_, i) => partitionOf(`evt-${i}`, 16)));
    expect(seen.size).toBe(16);
  });
});
