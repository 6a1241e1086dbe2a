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

/** A claim an append wanted changed since it was read: someone else took or rewrote it. Nothing was written. */
export class ClaimConflictError extends ConflictError {
  constructor(readonly names: readonly string[]) {
    super(`one of the claims ${names.join(', ')} changed concurrently`, { reason: 'claim_conflict' });
  }
}

/** A payload type that is not in the store's registry, or a malformed stream name. */
export class EventStoreInputError extends InvalidArgumentError {}
