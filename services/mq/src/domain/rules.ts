/**
 * Pure rules of the queue: what a valid request is and how long a failed task waits.
 * Kept free of etcd and gRPC so they are unit-tested directly.
 */

export const TOPIC_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** etcd refuses requests over 1.5 MiB (--max-request-bytes); a task record must fit in one with room to spare. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
export const MIN_LEASE_MS = 100;
export const MAX_LEASE_MS = 3_600_000;
export const MAX_WAIT_MS = 60_000;
export const MAX_TASKS_PER_DEQUEUE = 100;
export const MAX_ATTEMPTS_LIMIT = 100;
export const MAX_DELAY_MS = 7 * 24 * 3_600_000;

export class RuleViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleViolation';
  }
}

export function checkTopic(topic: string): void {
  if (!topic) throw new RuleViolation('topic: must not be empty');
  if (!TOPIC_PATTERN.test(topic))
    throw new RuleViolation(`topic: ${JSON.stringify(topic.slice(0, 80))} must match ${TOPIC_PATTERN.source} (at most 63 characters)`);
}

export function checkTaskId(taskId: string): void {
  if (!taskId) throw new RuleViolation('task_id: must not be empty');
  if (!TASK_ID_PATTERN.test(taskId))
    throw new RuleViolation(`task_id: ${JSON.stringify(taskId.slice(0, 80))} must match ${TASK_ID_PATTERN.source} (at most 128 characters)`);
}

export function checkPayload(payload: Uint8Array): void {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new RuleViolation(`payload: ${payload.length} bytes is over the limit of ${MAX_PAYLOAD_BYTES} bytes (etcd's request limit is 1572864 bytes)`);
  }
}

export function checkRange(field: string, value: number, min: number, max: number): void {
  if (value < min || value > max) throw new RuleViolation(`${field}: ${value} is out of range ${min}..${max}`);
}

/** 0 means "the default". */
export function orDefault(value: number, def: number): number {
  return value === 0 ? def : value;
}

/** Exponential back-off after the n-th failed attempt (1-based), capped, with ±20% jitter so retries spread. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(raw * (0.8 + 0.4 * random()));
}
