export { fromServiceError, GrpcStatus, toServiceError } from './errors';
// The error vocabulary is @wharf/errors; re-exported so a gRPC user needs one import.
export * from '@wharf/errors';
export { GrpcServer } from './server';
export { createClient, type ClientOptions } from './client';
export { toServiceDefinition, methodPath } from './service-definition';
export type { CallContext, CallOptions, MethodImpl, ServiceClient, ServiceImpl } from './types';
