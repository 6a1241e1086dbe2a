export { startEtcd, etcdBinary, TEST_ETCD_QUOTA_BYTES, type EtcdInstance } from './etcd';
export { startTcpProxy, type TcpProxy } from './tcp-proxy';
export { freePort, waitFor } from './ports';
export { spawnProcess, type ManagedProcess } from './process';
export {
  startApiGateway,
  startConsole,
  startEventLog,
  startMq,
  type RunningApiGateway,
  type RunningConsole,
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
export { fakeWorkers, type Script } from './fake-workers';
export { launchChromium } from './chromium';
export { startDataCenter, type RunningDataCenter } from './data-center';
