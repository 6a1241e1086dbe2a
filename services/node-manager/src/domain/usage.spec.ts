import { cpuMillisUsed, cpuTimes } from './usage';

describe('cpu usage', () => {
  const t = (user: number, idle: number) => ({ times: { user, nice: 0, sys: 0, idle, irq: 0 } });
  it('is the busy share of the interval times the cores, in millicores', () => {
    const a = cpuTimes([t(100, 100), t(100, 100)]);
    const b = cpuTimes([t(150, 150), t(200, 100)]);
    expect(cpuMillisUsed(undefined, b)).toBe(0);
    expect(cpuMillisUsed(a, b)).toBe(Math.round((150 / 200) * 2 * 1000));
    expect(cpuMillisUsed(b, b)).toBe(0);
  });
});
