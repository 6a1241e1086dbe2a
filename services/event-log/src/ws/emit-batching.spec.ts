import { loadBatchMs, roomSpacing, throttleWait } from './emit-batching';

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

  it('spaces broadcasts of big rooms further apart, never past the maximum', () => {
    const s = { emitIntervalMs: 0, emitMsPerMember: 0.025, maxEmitIntervalMs: 30 };
    expect(roomSpacing(10, s, 0)).toBe(0.25);
    expect(roomSpacing(1000, s, 0)).toBe(25);
    expect(roomSpacing(10_000, s, 0)).toBe(30);
    expect(roomSpacing(10, s, 12)).toBe(12);
    expect(roomSpacing(10, { ...s, emitIntervalMs: 5 }, 40)).toBe(30);
  });

  it('sends at once after a quiet spell, else at the end of the spacing', () => {
    expect(throttleWait(25, Infinity)).toBe(0);
    expect(throttleWait(25, 25)).toBe(0);
    expect(throttleWait(25, 10)).toBe(15);
    expect(throttleWait(0, 0)).toBe(0);
  });
});
