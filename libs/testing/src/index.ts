export { startEtcd, etcdBinary, TEST_ETCD_QUOTA_BYTES, type EtcdInstance, type StartEtcdOptions } from './etcd';
export { createTestPki, type TestPki } from './pki';
export { startTcpProxy, type TcpProxy } from './tcp-proxy';
export { freePort, waitFor } from './ports';
export { rawHttp } from './raw-http';
export { spawnProcess, type ManagedProcess } from './process';
export {
  clientSecurity,
  serviceEnv,
  startApiGateway,
  startAppManager,
  startEventLog,
  startMq,
  type RunningApiGateway,
  type RunningAppManager,
  type RunningEventLog,
  type RunningMq,
} from './services';
export { ManualClock, SequentialIds } from './fakes';
export {
  buildTestImage,
  dockerClient,
  dockerSocket,
  ensureDockerEngine,
  followProgress,
  httpTestImage,
  type DockerEngine,
  type TestImageOptions,
} from './docker';
export { startRegistry, type RegistryInstance } from './registry';
export { setupDockerEngine, teardownDockerEngine } from './docker-global-setup';
export { FakeRuntime, MemoryRuntimeDriver, type FakeImage } from './memory-runtime-driver';
export { runtimeDriverBehaviour, type DriverFixture } from './runtime-driver-behaviour';
export { startSocketProxy, type SocketProxy } from './socket-proxy';
