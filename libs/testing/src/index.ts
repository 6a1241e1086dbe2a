export { startEtcd, etcdBinary, type EtcdInstance } from './etcd';
export { freePort, waitFor } from './ports';
export { spawnProcess, type ManagedProcess } from './process';
export {
  startApiGateway,
  startBuilder,
  startEventLog,
  startMq,
  type RunningApiGateway,
  type RunningBuilder,
  type RunningEventLog,
  type RunningMq,
} from './services';
export { startGitDaemon, type GitDaemon } from './git';
export { startGitHttpServer, type GitHttpServer } from './git-http';
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
