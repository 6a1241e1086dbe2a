export { createEtcdClient, type EtcdClientOptions } from './client';
export { KeyLayout } from './keys';
export type { Etcd3 } from 'etcd3';
