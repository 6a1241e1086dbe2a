export { fromServiceError, GrpcStatus, toServiceError } from './errors';
// The error vocabulary is @wharf/errors; re-exported so a gRPC user needs one import.
export * from '@wharf/errors';
export { GrpcServer, type GrpcServerOptions } from './server';
export { createClient, type ClientOptions } from './client';
export { toServiceDefinition, methodPath, UndecodableRequest } from './service-definition';
export { METHOD_ACCESS, SERVED_BY } from './method-access';
export { PEER_IDENTITY_KEY } from './access-interceptor';
export type { GrpcServerLogger } from './peer-identities';
export type { CallContext, CallOptions, MethodImpl, ServiceClient, ServiceImpl } from './types';
