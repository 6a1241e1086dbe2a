import { failingConditions, nextConditions, observe, type Observation, type Sample } from './conditions';

const allOk: Observation = {
  runtime_reachable: { ok: true, message: 'ping' },
  disk_pressure: { ok: true, message: '10%' },
  memory_pressure: { ok: true, message: '10%' },
  etcd_reachable: { ok: true, message: 'etcd answers' },
  clock_skew: { ok: true, message: '0 ms' },
};

describe('health conditions', () => {
  it('keeps last change while the outcome holds and moves it when it flips', () => {
    const a = nextConditions([], allOk, 1000);
    expect(a.map((c) => [c.type, c.ok, c.lastChangeMs, c.streak])).toEqual([
      ['runtime_reachable', true, 1000, 1],
      ['disk_pressure', true, 1000, 1],
      ['memory_pressure', true, 1000, 1],
      ['etcd_reachable', true, 1000, 1],
      ['clock_skew', true, 1000, 1],
    ]);
    const b = nextConditions(a, { ...allOk, disk_pressure: { ok: true, message: '11%' } }, 2000);
    expect(b[1]).toEqual({ type: 'disk_pressure', ok: true, message: '11%', lastChangeMs: 1000, streak: 2 });
    const c = nextConditions(b, { ...allOk, disk_pressure: { ok: false, message: '97%' } }, 3000);
    expect(c[1]).toEqual({ type: 'disk_pressure', ok: false, message: '97%', lastChangeMs: 3000, streak: 1 });
  });

  it('fails a node only after failAfter failing rounds, and never on etcd_reachable', () => {
    let cs = nextConditions([], allOk, 0);
    const bad = { ...allOk, runtime_reachable: { ok: false, message: 'ENOENT' }, etcd_reachable: { ok: false, message: 'down' } };
    for (let i = 1; i <= 2; i++) cs = nextConditions(cs, bad, i);
    expect(failingConditions(cs, 3)).toEqual([]);
    cs = nextConditions(cs, bad, 3);
    expect(failingConditions(cs, 3).map((c) => c.type)).toEqual(['runtime_reachable']);
  });

  it('turns readings into observations against the thresholds', () => {
    const s: Sample = {
      runtime: { ok: false, error: 'connect ENOENT /x.sock' },
      disk: { totalBytes: 100, availableBytes: 5, path: '/' },
      memory: { totalBytes: 100, availableBytes: 50 },
      etcd: { ok: true },
      skew: { ms: -2500, reference: 'the engine' },
    };
    const o = observe(s, { diskPressurePct: 90, memoryPressurePct: 95, clockSkewMs: 2000 });
    expect(o.runtime_reachable).toEqual({ ok: false, message: 'connect ENOENT /x.sock' });
    expect(o.disk_pressure).toEqual({ ok: false, message: '95% of / used (pressure at 90%)' });
    expect(o.memory_pressure).toEqual({ ok: true, message: '50% of memory used (pressure at 95%)' });
    expect(o.clock_skew).toEqual({ ok: false, message: '-2500 ms against the engine (at most 2000 ms)' });
    expect(
      observe({ ...s, disk: { error: 'EACCES' }, skew: { error: 'no engine' } }, { diskPressurePct: 90, memoryPressurePct: 95, clockSkewMs: 2000 }),
    ).toMatchObject({
      disk_pressure: { ok: false, message: 'cannot read the disk: EACCES' },
      clock_skew: { ok: false, message: 'cannot read the reference clock: no engine' },
    });
  });
});
