import type { TimelineEntry } from '@wharf/event-log-client';
import { emptyTimeline, foldTimeline, renderEntry, renderProgress, renderSummary } from './timeline';

const entries: TimelineEntry[] = [
  { seq: 1, stored_ms: 1000, type: 'step_started', step: 'build' },
  { seq: 2, stored_ms: 1100, type: 'line', time_ms: 1100, level: 'info', step: 'build', text: 'Step 1/3' },
  { seq: 3, stored_ms: 2500, type: 'step_finished', step: 'build', status: 'success', message: '' },
  { seq: 4, stored_ms: 2600, type: 'step_started', step: 'rollout/replica-1' },
  { seq: 5, stored_ms: 4000, type: 'step_finished', step: 'rollout/replica-1', status: 'failure', message: 'never became healthy' },
  { seq: 6, stored_ms: 4100, type: 'final', status: 'failure', message: 'never became healthy', failed_step: 'rollout/replica-1' },
];

describe('timeline', () => {
  it('folds steps with statuses, durations, line counts and the final status', () => {
    const s = foldTimeline(emptyTimeline(), entries);
    expect([...s.steps.values()].map((x) => [x.name, x.status, x.lines])).toEqual([
      ['build', 'success', 1],
      ['rollout/replica-1', 'failure', 0],
    ]);
    expect(s.final).toEqual({ status: 'failure', message: 'never became healthy', failedStep: 'rollout/replica-1', atMs: 4100 });
    expect(s.lastSeq).toBe(6);
  });

  it('renders each entry as it comes, nested steps indented, with durations', () => {
    const s = emptyTimeline();
    const out = entries.map((e) => (foldTimeline(s, [e]), renderEntry(s, e))).filter(Boolean);
    expect(out).toEqual(['▶ build', '[build] Step 1/3', '✔ build (1.5 s)', '  ▶ rollout/replica-1', '  ✖ rollout/replica-1 (1.4 s): never became healthy']);
  });

  it('summarises a failure with the failing step and its message, a success with its time', () => {
    expect(renderSummary('deploy', foldTimeline(emptyTimeline(), entries))).toBe('✖ deploy failed at step rollout/replica-1 in 3.1 s: never became healthy');
    const ok = foldTimeline(emptyTimeline(), [
      ...entries.slice(0, 3),
      { seq: 4, stored_ms: 2600, type: 'final', status: 'success', message: '', failed_step: '' },
    ]);
    expect(renderSummary('build', ok)).toBe('✔ build succeeded in 1.6 s');
    expect(renderSummary('build', emptyTimeline())).toBe('build: no final status yet');
  });

  it('shows progress: running steps, steps done, lines, time', () => {
    const s = foldTimeline(emptyTimeline(), entries.slice(0, 4));
    expect(renderProgress(s, 5000, 0)).toBe('⠋ rollout/replica-1 · 1/2 steps · 1 lines · 4.0 s');
    expect(renderProgress(emptyTimeline(), 0, 1)).toBe('⠙ pending · 0/0 steps · 0 lines · waiting for a worker');
  });
});
