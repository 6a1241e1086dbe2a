export * from './errors';
export { GrpcServer } from './server';
export { createClient, type ClientOptions } from './client';
export { toServiceDefinition, methodPath } from './service-definition';
export type { CallContext, CallOptions, MethodImpl, ServiceClient, ServiceImpl } from './types';
