import type { Entry } from './live';
import { emptyView, foldView, shownStatus } from './timeline-state';

describe('timeline view', () => {
  const entries: Entry[] = [
    { seq: 1, stored_ms: 0, type: 'step_started', step: 'build' },
    { seq: 2, stored_ms: 10, type: 'line', time_ms: 10, level: 'info', step: 'build', text: 'x' },
    { seq: 3, stored_ms: 20, type: 'step_finished', step: 'build', status: 'success', message: '' },
    { seq: 4, stored_ms: 30, type: 'step_started', step: 'rollout/replica-1' },
    { seq: 5, stored_ms: 40, type: 'step_started', step: 'rollout/replica-2' },
    { seq: 6, stored_ms: 50, type: 'step_finished', step: 'rollout/replica-1', status: 'success', message: '' },
  ];

  it('nests a/b under a, and a parent only named by its children takes their status', () => {
    const v = foldView(emptyView(), entries);
    expect(v.roots.map((r) => r.name)).toEqual(['build', 'rollout']);
    const rollout = v.byName.get('rollout')!;
    expect(rollout.children.map((c) => c.name)).toEqual(['rollout/replica-1', 'rollout/replica-2']);
    expect(shownStatus(rollout)).toBe('running');
    foldView(v, [{ seq: 7, stored_ms: 60, type: 'step_finished', step: 'rollout/replica-2', status: 'failure', message: 'unhealthy' }]);
    expect(shownStatus(rollout)).toBe('failure');
    expect(v.lines).toBe(1);
  });

  it('keeps the final status with the failing step', () => {
    const v = foldView(emptyView(), [
      ...entries,
      { seq: 7, stored_ms: 70, type: 'final', status: 'failure', message: 'unhealthy', failed_step: 'rollout/replica-2' },
    ]);
    expect(v.final).toEqual({ status: 'failure', message: 'unhealthy', failedStep: 'rollout/replica-2', atMs: 70 });
  });
});
