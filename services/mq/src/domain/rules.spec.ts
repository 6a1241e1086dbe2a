import { backoffMs, checkPayload, checkRange, checkTaskId, checkTopic, MAX_PAYLOAD_BYTES, RuleViolation } from './rules';

describe('queue rules', () => {
  it('accepts good topics and task ids and names the problem otherwise', () => {
    expect(() => checkTopic('build')).not.toThrow();
    expect(() => checkTaskId('evt_01H:build.1')).not.toThrow();
    expect(() => checkTopic('')).toThrow('topic: must not be empty');
    expect(() => checkTopic('Build/x')).toThrow(/topic: "Build\/x" must match/);
    expect(() => checkTopic('a'.repeat(64))).toThrow(/at most 63 characters/);
    expect(() => checkTaskId('')).toThrow('task_id: must not be empty');
    expect(() => checkTaskId('-rf')).toThrow(RuleViolation);
    expect(() => checkTaskId('a/b')).toThrow(/task_id/);
  });

  it('states the payload limit in bytes', () => {
    expect(() => checkPayload(new Uint8Array(MAX_PAYLOAD_BYTES))).not.toThrow();
    expect(() => checkPayload(new Uint8Array(MAX_PAYLOAD_BYTES + 1))).toThrow(
      `payload: ${MAX_PAYLOAD_BYTES + 1} bytes is over the limit of ${MAX_PAYLOAD_BYTES} bytes`,
    );
    expect(() => checkRange('lease_ms', 5, 100, 1000)).toThrow('lease_ms: 5 is out of range 100..1000');
  });

  it('backs off exponentially with bounded jitter and a cap', () => {
    expect(backoffMs(1, 100, 10_000, () => 0.5)).toBe(100);
    expect(backoffMs(3, 100, 10_000, () => 0.5)).toBe(400);
    expect(backoffMs(30, 100, 10_000, () => 0.5)).toBe(10_000);
    expect(backoffMs(2, 100, 10_000, () => 0)).toBe(160);
    expect(backoffMs(2, 100, 10_000, () => 1)).toBe(240);
  });
});
