export { createEtcdClient, type EtcdClientOptions } from './client';
export { KeyLayout } from './keys';
export { isEtcdUnavailable } from './unavailable';
export type { Etcd3 } from 'etcd3';
