export { startEtcd, etcdBinary, TEST_ETCD_QUOTA_BYTES, type EtcdInstance } from './etcd';
export { startTcpProxy, type TcpProxy } from './tcp-proxy';
export { freePort, waitFor } from './ports';
export { spawnProcess, type ManagedProcess } from './process';
export { startApiGateway, startEventLog, startMq, type RunningApiGateway, type RunningEventLog, type RunningMq } from './services';
