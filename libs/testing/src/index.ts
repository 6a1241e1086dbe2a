export { startEtcd, etcdBinary, type EtcdInstance, type StartEtcdOptions } from './etcd';
export { createTestPki, type TestPki } from './pki';
export { freePort, waitFor } from './ports';
export { spawnProcess, type ManagedProcess } from './process';
export { clientSecurity, serviceEnv, startApiGateway, startEventLog, startMq, type RunningApiGateway, type RunningEventLog, type RunningMq } from './services';
