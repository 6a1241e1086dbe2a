export * from './types';
export { ClaimConflictError, ConcurrencyError, EventStoreInputError } from './errors';
export { EtcdEventStore, MAX_APPEND_BYTES, MAX_EVENTS_PER_APPEND, MAX_CLAIMS_PER_APPEND, type EtcdEventStoreOptions } from './etcd-event-store';
export { eventsRegistry, assertStreamName } from './codec';
export { Projection, fold, type ProjectionDefinition } from './projection';
