import { loadBatchMs, nextGap, roomInterval, worthwhileWait } from './emit-batching';

describe('socket.io emit batching', () => {
  it('adds no load batching below 75 % event-loop use, then rises to the maximum', () => {
    expect(loadBatchMs(0, 20)).toBe(0);
    expect(loadBatchMs(0.6, 20)).toBe(0);
    expect(loadBatchMs(0.75, 20)).toBe(0);
    expect(loadBatchMs(0.875, 20)).toBe(10);
    expect(loadBatchMs(1, 20)).toBe(20);
    expect(loadBatchMs(1.2, 20)).toBe(20);
    expect(loadBatchMs(0.75, 20, 0.5)).toBe(10);
  });

  it('batches big rooms longer, never past the maximum', () => {
    const s = { emitIntervalMs: 0, emitMsPerMember: 0.025, maxEmitIntervalMs: 30 };
    expect(roomInterval(10, s, 0)).toBe(0.25);
    expect(roomInterval(1000, s, 0)).toBe(25);
    expect(roomInterval(10_000, s, 0)).toBe(30);
    expect(roomInterval(10, s, 12)).toBe(12);
    expect(roomInterval(10, { ...s, emitIntervalMs: 5 }, 40)).toBe(30);
  });

  it('waits only when another commit is likely to come within the wait', () => {
    // A room fed every 20 ms gains nothing from a 12 ms wait, and everything from a 25 ms one.
    expect(worthwhileWait(12, 20)).toBe(0);
    expect(worthwhileWait(25, 20)).toBe(25);
    expect(worthwhileWait(25, Infinity)).toBe(0);
    expect(worthwhileWait(0, 5)).toBe(0);
  });

  it('follows the gap between commits', () => {
    expect(nextGap(Infinity, undefined, 100)).toBe(Infinity);
    expect(nextGap(Infinity, 100, 120)).toBe(20);
    expect(nextGap(20, 120, 130)).toBe(18);
    let gap = Infinity;
    let last: number | undefined;
    for (let t = 0; t <= 1000; t += 10) (gap = nextGap(gap, last, t)), (last = t);
    expect(gap).toBeCloseTo(10, 5);
  });
});
