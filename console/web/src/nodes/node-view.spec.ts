import { adminActions, formatLabels, healthOf, parseLabels, percent } from './node-view';

describe('node view helpers', () => {
  it('offers only the administrator moves the state allows, in a stable order', () => {
    expect(adminActions({ allowed_actions: ['offline', 'cordon', 'fail'] })).toEqual(['cordon', 'offline']);
    expect(adminActions({ allowed_actions: ['fail', 'migrated'] })).toEqual([]);
  });

  it('says why a node is unhealthy: no heartbeat first, else every failing condition with its message', () => {
    expect(healthOf({ heartbeat: { alive: false }, conditions: [] })).toEqual({ ok: false, text: 'no heartbeat' });
    const conditions = [
      { type: 'runtime_reachable', ok: true, message: '', last_change_ms: 1 },
      { type: 'disk_pressure', ok: false, message: '93% used', last_change_ms: 2 },
      { type: 'clock_skew', ok: false, message: '', last_change_ms: 3 },
    ];
    expect(healthOf({ heartbeat: { alive: true }, conditions })).toEqual({ ok: false, text: 'disk_pressure: 93% used; clock_skew' });
    expect(healthOf({ heartbeat: { alive: true }, conditions: conditions.slice(0, 1) })).toEqual({ ok: true, text: 'ok' });
  });

  it('shows a share only when both use and capacity are known', () => {
    expect(percent(500, 2000)).toBe('25%');
    expect(percent(null, 2000)).toBe('-');
    expect(percent(5, 0)).toBe('-');
  });

  it('reads labels as key=value lines or a comma list, and names a malformed one', () => {
    expect(parseLabels('zone=a\n disk = ssd ,\n\n')).toEqual({ labels: { zone: 'a', disk: 'ssd' } });
    expect(parseLabels('')).toEqual({ labels: {} });
    expect(parseLabels('zone=a, oops')).toEqual({ error: '"oops": expected key=value' });
    expect(parseLabels('=x')).toEqual({ error: '"=x": expected key=value' });
    expect(parseLabels(formatLabels({ a: '1', 'x.io/b': '' }))).toEqual({ labels: { a: '1', 'x.io/b': '' } });
  });
});
