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
  startBuilder,
  startConsole,
  startEventLog,
  startMq,
  startNodeManager,
  type RunningApiGateway,
  type RunningAppManager,
  type RunningBuilder,
  type RunningConsole,
  type RunningEventLog,
  type RunningMq,
  type RunningNodeManager,
} from './services';
export { nginxAlive, startLbManager, viaGateway, type RoutesView, type RunningLbManager } from './lb-manager';
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
export { FakeRuntime, MemoryRuntimeDriver, type FakeImage } from './memory-runtime-driver';
export { runtimeDriverBehaviour, type DriverFixture } from './runtime-driver-behaviour';
export { startSocketProxy, type SocketProxy } from './socket-proxy';
export { fakeWorkers, type Script } from './fake-workers';
export { launchChromium } from './chromium';
export { startDataCenter, type RunningDataCenter } from './data-center';
export { MemoryWorkloadDriver, type FakeWorkloadImage } from './memory-workload-driver';
export { startKubernetesCluster, type KubernetesCluster, type KubernetesNode, type StartKubernetesClusterOptions } from './kubernetes-cluster';
export { KUBERNETES_VERSION, kubernetesBinDir, PAUSE_IMAGE } from './kubernetes-cluster-config';
