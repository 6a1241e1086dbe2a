import { eventsV1 } from '@wharf/contracts';
import { finalStatus, foldReport, newProgress, waitingSince, type OperationProgress, type ReportBody } from './final-status';

const { SUCCESS, FAILURE, TIMEOUT } = eventsV1.OperationStatus;
const started = (step: string): ReportBody => ({ kind: 'step_started', step });
const ok = (step: string): ReportBody => ({ kind: 'step_finished', step, ok: true, message: '' });
const failed = (step: string, message = ''): ReportBody => ({ kind: 'step_finished', step, ok: false, message });
const line: ReportBody = { kind: 'line' };
const done: ReportBody = { kind: 'done' };

/** The progress after these reports, each folded and decided as the store does it. */
function run(...reports: ReportBody[]): OperationProgress {
  const p = newProgress();
  for (const r of reports) {
    foldReport(p, r);
    p.final ??= finalStatus(p);
  }
  return p;
}

const MIN = 60_000;

describe('finalStatus', () => {
  it('is undefined while steps run and the producer has not said it is done', () => {
    expect(finalStatus(run())).toBeUndefined();
    expect(finalStatus(run(started('clone'), line, ok('clone'), started('build'), line))).toBeUndefined();
  });

  it('done with every step ok succeeds', () => {
    expect(finalStatus(run(started('clone'), ok('clone'), line, started('build'), ok('build'), done))).toEqual({
      status: SUCCESS,
      message: '',
      failedStep: '',
    });
  });

  it('done with no step at all succeeds', () => {
    expect(finalStatus(run(line, done))).toEqual({ status: SUCCESS, message: '', failedStep: '' });
  });

  it('a failed step fails the operation at once, with its message and name', () => {
    expect(finalStatus(run(started('clone'), ok('clone'), started('build'), failed('build', 'npm ERR! missing script: build')))).toEqual({
      status: FAILURE,
      message: 'npm ERR! missing script: build',
      failedStep: 'build',
    });
  });

  it('a failed step without a message is named in the message', () => {
    expect(finalStatus(run(started('push'), failed('push')))).toEqual({ status: FAILURE, message: 'step push failed', failedStep: 'push' });
  });

  it('the first failure is the one kept, whatever fails after it', () => {
    expect(finalStatus(run(started('a'), failed('a', 'first'), started('b'), failed('b', 'second'), done))).toMatchObject({
      message: 'first',
      failedStep: 'a',
    });
  });

  it('done while a step is still open fails, naming the first open step', () => {
    expect(finalStatus(run(started('a'), ok('a'), started('b'), started('c'), done))).toEqual({
      status: FAILURE,
      message: 'step b did not finish before the operation was done',
      failedStep: 'b',
    });
  });

  it('a retried step that succeeds the second time does not fail the operation', () => {
    expect(finalStatus(run(started('pull'), started('pull'), ok('pull'), done))?.status).toBe(SUCCESS);
  });

  it('a step restarted after it succeeded is open again', () => {
    expect(finalStatus(run(started('pull'), ok('pull'), started('pull'), done))).toMatchObject({ status: FAILURE, failedStep: 'pull' });
  });

  it('a frame after the final status changes nothing', () => {
    const succeeded = run(started('a'), ok('a'), done);
    foldReport(succeeded, started('b'));
    foldReport(succeeded, failed('b', 'too late'));
    expect(finalStatus(succeeded, { nowMs: 10 * MIN, lastReportMs: 0, timeoutMs: MIN })).toEqual({ status: SUCCESS, message: '', failedStep: '' });
    const failedOp = run(started('a'), failed('a', 'boom'));
    foldReport(failedOp, ok('a'));
    foldReport(failedOp, done);
    expect(finalStatus(failedOp)).toEqual({ status: FAILURE, message: 'boom', failedStep: 'a' });
  });

  it('a second done changes nothing', () => {
    const p = run(started('a'), ok('a'), done);
    foldReport(p, started('b'));
    foldReport(p, done);
    expect(finalStatus(p)?.status).toBe(SUCCESS);
  });

  it('silence for the timeout times out, naming the step that was running', () => {
    const p = run(started('build'), ok('build'), started('deploy'), line);
    expect(finalStatus(p, { nowMs: 1000 + MIN - 1, lastReportMs: 1000, timeoutMs: MIN })).toBeUndefined();
    expect(finalStatus(p, { nowMs: 1000 + MIN, lastReportMs: 1000, timeoutMs: MIN })).toEqual({
      status: TIMEOUT,
      message: 'no report for 60 s (step deploy was running)',
      failedStep: 'deploy',
    });
  });

  it('silence with no step running times out naming none', () => {
    expect(finalStatus(run(line), { nowMs: 1500, lastReportMs: 0, timeoutMs: 1500 })).toEqual({
      status: TIMEOUT,
      message: 'no report for 1.5 s',
      failedStep: '',
    });
  });

  it('with several steps running, the timeout names the last one started', () => {
    expect(finalStatus(run(started('a'), started('b')), { nowMs: MIN, lastReportMs: 0, timeoutMs: MIN })).toMatchObject({ failedStep: 'b' });
  });

  it('a failure or done wins over silence', () => {
    const late = { nowMs: 10 * MIN, lastReportMs: 0, timeoutMs: MIN };
    expect(finalStatus(run(started('a'), failed('a', 'x')), late)?.status).toBe(FAILURE);
    expect(finalStatus(run(started('a'), ok('a'), done), late)?.status).toBe(SUCCESS);
  });

  it('an operation that never reported times out "never started" after the start timeout from when it could start', () => {
    const p = run();
    const timing = { nowMs: 1000 + 30 * MIN - 1, timeoutMs: MIN, waitingSinceMs: 1000, startTimeoutMs: 30 * MIN };
    expect(finalStatus(p, timing)).toBeUndefined();
    expect(finalStatus(p, { ...timing, nowMs: 1000 + 30 * MIN })).toEqual({
      status: TIMEOUT,
      message: 'never started: nothing reported within 1800 s',
      failedStep: '',
    });
  });

  it('an operation that never reported and is still queued (no clock), or with no start rule, is left alone', () => {
    expect(finalStatus(run(), { nowMs: 100 * MIN, timeoutMs: MIN, startTimeoutMs: MIN })).toBeUndefined();
    expect(finalStatus(run(), { nowMs: 100 * MIN, timeoutMs: MIN, waitingSinceMs: 0 })).toBeUndefined();
  });

  it('an operation that reported is never "never started", even long after', () => {
    expect(finalStatus(run(line), { nowMs: 100 * MIN, lastReportMs: 100 * MIN, timeoutMs: MIN, waitingSinceMs: 0, startTimeoutMs: MIN })).toBeUndefined();
  });

  it('never decides anything from a line', () => {
    const p = newProgress();
    foldReport(p, line);
    expect(p).toEqual(newProgress());
  });
});

describe('waitingSince', () => {
  it('an operation nothing picked up: its clock starts at the request, or when the one queued before it finished', () => {
    expect(waitingSince(1000)).toBe(1000);
    expect(waitingSince(1000, { finishedMs: undefined })).toBeUndefined();
    expect(waitingSince(1000, { finishedMs: 5000 })).toBe(5000);
    expect(waitingSince(9000, { finishedMs: 5000 })).toBe(9000);
  });
});
