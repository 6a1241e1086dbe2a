import { Readiness } from './readiness';

describe('Readiness', () => {
  it('is ready when every check passes, with each check reported', async () => {
    const r = new Readiness().add({ name: 'etcd', check: () => ({ ok: true }) }, { name: 'projection', check: async () => ({ ok: true, detail: 'at 42' }) });
    expect(await r.report()).toEqual({ ready: true, checks: { etcd: { ok: true }, projection: { ok: true, detail: 'at 42' } } });
  });

  it('is not ready when a check fails, throws or does not answer in time', async () => {
    const r = new Readiness(50).add(
      { name: 'ok', check: () => ({ ok: true }) },
      { name: 'down', check: () => ({ ok: false, detail: 'etcd unreachable' }) },
      {
        name: 'throws',
        check: () => {
          throw new Error('boom');
        },
      },
      { name: 'hangs', check: () => new Promise(() => undefined) },
    );
    const report = await r.report();
    expect(report.ready).toBe(false);
    expect(report.checks).toEqual({
      ok: { ok: true },
      down: { ok: false, detail: 'etcd unreachable' },
      throws: { ok: false, detail: 'boom' },
      hangs: { ok: false, detail: 'hangs did not answer within 50 ms' },
    });
  });

  it('is never ready again once draining', async () => {
    const r = new Readiness().add({ name: 'etcd', check: () => ({ ok: true }) });
    r.drain('shutting down (SIGTERM)');
    expect(await r.report()).toEqual({ ready: false, checks: { etcd: { ok: true }, shutdown: { ok: false, detail: 'shutting down (SIGTERM)' } } });
    expect(r.draining).toBe(true);
  });
});
