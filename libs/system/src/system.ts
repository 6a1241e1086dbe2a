import { randomBytes, randomUUID } from 'node:crypto';

/**
 * Time and identifiers, the two inputs domain code must not take from the machine
 * directly: injected, so folds, schedulers and use cases are tested with a clock that
 * moves only when a test says so and ids a test can predict (fakes in @wharf/testing).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface Ids {
  /** A random UUID (v4). */
  uuid(): string;
  /** `bytes` random bytes as lower-case hex. */
  hex(bytes: number): string;
}

export const systemClock: Clock = { now: () => Date.now() };

export const randomIds: Ids = {
  uuid: () => randomUUID(),
  hex: (bytes) => randomBytes(bytes).toString('hex'),
};
