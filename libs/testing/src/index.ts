export { startEtcd, etcdBinary, type EtcdInstance } from './etcd';
export { freePort, waitFor } from './ports';
export { spawnProcess, type ManagedProcess } from './process';
export { startApiGateway, startEventLog, startMq, type RunningApiGateway, type RunningEventLog, type RunningMq } from './services';
export { ManualClock, SequentialIds } from './fakes';
