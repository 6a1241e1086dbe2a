export { startEtcd, etcdBinary, type EtcdInstance } from './etcd';
export { freePort, waitFor } from './ports';
export { spawnProcess, type ManagedProcess } from './process';
export { startApiGateway, startMq, type RunningApiGateway, type RunningMq } from './services';
