import { ConflictError, InvalidArgumentError } from '@wharf/errors';

/** A stale expectedVersion: someone else appended first. Nothing was written. */
export class ConcurrencyError extends ConflictError {
  constructor(
    readonly stream: string,
    readonly expectedVersion: number | 'any',
    readonly actualVersion: number,
  ) {
    super(`stream ${stream} is at version ${actualVersion}, expected ${expectedVersion}`, { reason: 'version_mismatch' });
  }
}

/** A payload type that is not in the store's registry, or a malformed stream name. */
export class EventStoreInputError extends InvalidArgumentError {}
