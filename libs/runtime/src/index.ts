/**
 * @wharf/runtime: the RuntimeDriver port app-manager runs replicas through, its Docker
 * adapter, and the runtime-log collector event-log serves (any driver's logs, merged).
 * The in-memory fake and the behaviour suite every adapter passes are in @wharf/testing.
 */
export * from './runtime-driver';
export { LABEL, fromLabels, matchesSelector, selectorFilters, toLabels } from './labels';
export { networkName, replicaName, volumeName, withSuffix } from './names';
export { validateReplicaSpec } from './validate-spec';
export { DriverLogCollector, lastLines, type DriverLogCollectorOptions, type RuntimeLogCollector, type RuntimeLogLine } from './runtime-log-collector';
export { DockerDriver, type DockerDriverOptions } from './docker/docker-driver';
export { registryOf } from './names';
export { DockerLogDemuxer, parseTimestamped, usageFromStats } from './docker/docker-mapping';
export { KubernetesDriver, type KubernetesDriverOptions } from './kubernetes/kubernetes-driver';
export { chooseApiVersions, type ApiChoice, type ApiGroupInfo } from './kubernetes/kubernetes-discovery';
export { replicaFromPod, validateWorkloadSpec, workloadObjects, FIELD_MANAGER } from './kubernetes/kubernetes-mapping';
export { namespaceName, workloadName } from './kubernetes/kubernetes-names';
export {
  KubernetesNodes,
  NODE_FIELD_MANAGER,
  nodeFacts,
  podFacts,
  ownedLabelKeys,
  type ClusterNode,
  type NodePod,
  type EvictionResult,
  type KubernetesNodesOptions,
} from './kubernetes/kubernetes-nodes';
