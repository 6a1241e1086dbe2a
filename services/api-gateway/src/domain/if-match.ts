import { ConflictError } from '@wharf/errors';

/**
 * The version a guarded write expects: If-Match when given, else the current one. A
 * stale If-Match is refused before anything is appended (409 version_mismatch); a race
 * lost after this check is caught by the event store's own optimistic concurrency.
 */
export function expectedVersion(what: string, current: number, ifMatch: number | undefined): number {
  if (ifMatch !== undefined && ifMatch !== current)
    throw new ConflictError(`${what} is at version ${current}, If-Match said ${ifMatch}; reload and retry`, { reason: 'version_mismatch' });
  return current;
}
