import { DcBackoff } from './dc-backoff';

describe('DcBackoff', () => {
  const settings = { initialMs: 500, maxMs: 4000 };

  it('admits every call while the data center answers', () => {
    const b = new DcBackoff(settings);
    for (let t = 0; t < 5; t++) expect(b.admit(t)).toBe(true);
    expect(b.health).toMatchObject({ status: 'ok', retryAtMs: null });
  });

  it('fails fast after a failure until retryAt, then lets exactly one trial through', () => {
    const b = new DcBackoff(settings);
    b.failed(1000, 'timeout');
    expect(b.health).toEqual({ status: 'unreachable', message: 'timeout', sinceMs: 1000, retryAtMs: 1500 });
    expect(b.admit(1200)).toBe(false);
    expect(b.admit(1500)).toBe(true);
    expect(b.admit(1501)).toBe(false); // the trial is still out
  });

  it('doubles the wait on each failure up to the maximum, keeping when it went down', () => {
    const b = new DcBackoff(settings);
    const waits: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      b.failed(now, 'refused');
      waits.push(b.health.retryAtMs! - now);
      now = b.health.retryAtMs!;
      expect(b.admit(now)).toBe(true);
    }
    expect(waits).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
    expect(b.health.sinceMs).toBe(0);
  });

  it('is ok again after one success, and starts from the initial wait next time', () => {
    const b = new DcBackoff(settings);
    b.failed(0, 'x');
    b.failed(500, 'x');
    expect(b.admit(1500)).toBe(true);
    b.succeeded(1600);
    expect(b.health).toEqual({ status: 'ok', message: null, sinceMs: 1600, retryAtMs: null });
    b.failed(2000, 'y');
    expect(b.health.retryAtMs).toBe(2500);
  });
});
