import { UnavailableError } from '@wharf/errors';
import { ManualClock } from '@wharf/testing';
import { DependencyState } from './dependency-state';
import { catalogCheck, etcdCheck } from './readiness';

describe('DependencyState', () => {
  it('lets calls through while up, refuses them at once while down, and counts the refusals', () => {
    const clock = new ManualClock();
    const etcd = new DependencyState('etcd', clock, 2000);
    expect(() => etcd.assertUp()).not.toThrow();
    etcd.markDown('connect ECONNREFUSED 127.0.0.1:2379');
    clock.advance(3000);
    etcd.markDown('still refused'); // the outage keeps its start
    let err: unknown;
    try {
      etcd.assertUp();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ message: 'etcd is unavailable (for 3 s: still refused); retry later', retryAfterMs: 2000 });
    expect(etcd.refused).toBe(1);
    expect(etcd.describe()).toEqual({ name: 'etcd', up: false, down_for_ms: 3000, reason: 'still refused' });
    etcd.markUp();
    expect(() => etcd.assertUp()).not.toThrow();
    expect(etcd.describe()).toEqual({ name: 'etcd', up: true });
  });
});

describe('readiness checks', () => {
  it('says etcd is not ready while it is down, and why', () => {
    const etcd = new DependencyState('etcd', new ManualClock());
    expect(etcdCheck(etcd).check()).toEqual({ ok: true });
    etcd.markDown('no leader');
    expect(etcdCheck(etcd).check()).toEqual({ ok: false, detail: 'unreachable for 0 ms: no leader' });
  });

  it('says the catalog is ready only while it follows the live feed', () => {
    expect(catalogCheck({ live: true, position: '42' }).check()).toEqual({ ok: true, detail: 'following the feed at 42' });
    expect(catalogCheck({ live: false, position: '42' }).check()).toMatchObject({ ok: false, detail: expect.stringContaining('at 42') });
  });
});
