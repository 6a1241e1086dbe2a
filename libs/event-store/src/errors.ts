/** A stale expectedVersion: someone else appended first. Nothing was written. */
export class ConcurrencyError extends Error {
  constructor(
    readonly stream: string,
    readonly expectedVersion: number | 'any',
    readonly actualVersion: number,
  ) {
    super(`stream ${stream} is at version ${actualVersion}, expected ${expectedVersion}`);
    this.name = 'ConcurrencyError';
  }
}

/** A payload type that is not in the store's registry, or a malformed stream name. */
export class EventStoreInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventStoreInputError';
  }
}
