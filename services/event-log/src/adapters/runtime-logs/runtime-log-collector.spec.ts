import { ManualClock } from '@wharf/testing';
import { MemoryRuntimeLogCollector, type RuntimeLogLine } from './runtime-log-collector';

describe('MemoryRuntimeLogCollector', () => {
  it('tails the last N lines of all replicas merged by time, then follows, tagged by replica', () => {
    const c = new MemoryRuntimeLogCollector(new ManualClock());
    c.push('api', 'api-1', 'one', 'stdout', 10);
    c.push('api', 'api-2', 'two', 'stderr', 20);
    c.push('api', 'api-1', 'late but earlier', 'stdout', 15);
    c.push('web', 'web-1', 'other component', 'stdout', 16);
    const got: RuntimeLogLine[] = [];
    const stop = c.follow('api', 2, (lines) => got.push(...lines));
    expect(got.map((l) => `${l.replica}:${l.text}`)).toEqual(['api-1:late but earlier', 'api-2:two']);
    c.push('api', 'api-3', 'live', 'stdout', 30);
    stop();
    c.push('api', 'api-3', 'after stop', 'stdout', 40);
    expect(got.map((l) => l.text)).toEqual(['late but earlier', 'two', 'live']);
  });
});
