import type { KubernetesObject, V1Container, V1ContainerStatus, V1EnvVar, V1NetworkPolicy, V1Pod, V1Probe, V1Secret, V1Service } from '@kubernetes/client-node';
import { fromLabels, LABEL } from '../labels';
import { registryOf } from '../names';
import { ReplicaCreateError, type ReplicaPhase, type ReplicaState, type ReplicaUsage, type WorkloadProbe, type WorkloadSpec } from '../runtime-driver';
import { validateReplicaSpec } from '../validate-spec';
import { podReadiness, type ServedPods } from './kubernetes-endpoint-slices';
import { envSecretName, namespaceName, NETWORK_POLICY_NAME, workloadName } from './kubernetes-names';

/**
 * Pure translations between the port's types and Kubernetes objects: what a WorkloadSpec
 * becomes (namespace, network policy, env Secret, Deployment or StatefulSet, Service, disruption
 * budget), applied by the driver with server-side apply; and what a pod means as a ReplicaState.
 * Every object carries the docker driver's labels (same keys) plus the recommended
 * app.kubernetes.io ones, so the same selectors find the same things on both runtimes.
 */

export const FIELD_MANAGER = 'wharf-app-manager';
export const CONTAINER = 'app';
/** On a namespace: the gateway's (lb-manager's) namespace, admitted into every tenant's. */
export const GATEWAY_NAMESPACE_LABEL = 'wharf/gateway';

export interface KubernetesNaming {
  namePrefix: string;
  /** Image pull secret (in every tenant namespace) when the data center's registry needs credentials. */
  pullSecret?: { name: string; registry: string; username: string; password: string };
  /**
   * Registry hosts the cluster's nodes may pull from (the data center's); an image from any other
   * gets imagePullPolicy Never, so no node reaches out for it. Undefined: any registry.
   */
  pullRegistries?: readonly string[];
  /** Storage class of the volumes' claims (the cluster's default when undefined). */
  storageClass?: string;
  /** cpu request as a share of the limit (0-1]: Docker reserves nothing, so a request of the whole limit would fill a node early. */
  cpuRequestRatio: number;
  /** Addresses (CIDRs) the gateway reaches pods from when it runs outside the cluster's pods (nodes, host network). */
  gatewayCidrs: string[];
  /** apiVersion of PodDisruptionBudget (discovery), or undefined when the cluster has none. */
  pdbApiVersion?: string;
}

export interface WorkloadObjects {
  namespace: KubernetesObject;
  networkPolicy: V1NetworkPolicy;
  pullSecret?: V1Secret;
  /** Only when the component has secret env. */
  envSecret?: V1Secret;
  workload: KubernetesObject & { spec: Record<string, unknown> };
  /**
   * None for a stateless component without ports (a worker): the API server refuses a Service
   * with no port unless it is headless, and nothing would reach it. A stateful one keeps its
   * headless Service (its pods' DNS names), ports or not.
   */
  service?: V1Service;
  budget?: KubernetesObject;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
// A qualified name: an optional DNS-subdomain prefix and "/", then a name of 1-63 characters.
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** The topology key replicas spread over: one domain per node. */
export const SPREAD_TOPOLOGY_KEY = 'kubernetes.io/hostname';

function refuse(field: string, why: string): never {
  throw new ReplicaCreateError('invalid_spec', `workload spec ${field}: ${why}`);
}

/** Labels of the component (no version or template): the selector of its workload, service and budget. */
export function componentSelector(dataCenter: string, componentId: string): Record<string, string> {
  return { [LABEL.dataCenter]: dataCenter, [LABEL.componentId]: componentId };
}

/** The label selector (`k=v,k=v`) of a set of labels. */
export function selectorString(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function recommended(spec: WorkloadSpec, name: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': spec.template.names.component,
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/component': spec.stateful ? 'stateful' : 'stateless',
    'app.kubernetes.io/part-of': spec.template.names.app,
    'app.kubernetes.io/managed-by': 'wharf',
  };
}

function quantityCpu(millis: number): string {
  return `${Math.max(1, Math.round(millis))}m`;
}

export function probeOf(p: WorkloadProbe | undefined): V1Probe | undefined {
  if (!p) return undefined;
  const timing = {
    initialDelaySeconds: Math.ceil(p.initialDelayMs / 1000),
    periodSeconds: Math.max(1, Math.round(p.periodMs / 1000)),
    timeoutSeconds: Math.max(1, Math.min(10, Math.round(p.periodMs / 1000))),
    failureThreshold: Math.max(1, p.failureThreshold),
    successThreshold: 1,
  };
  switch (p.kind) {
    case 'http':
      return { ...timing, httpGet: { path: p.path || '/', port: p.port } };
    case 'tcp':
      return { ...timing, tcpSocket: { port: p.port } };
    case 'exec':
      return { ...timing, exec: { command: p.command } };
  }
}

function validateProbe(field: string, p: WorkloadProbe | undefined): void {
  if (!p) return;
  if ((p.kind === 'http' || p.kind === 'tcp') && (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535)) refuse(field, `port ${p.port} is not a port`);
  if (p.kind === 'http' && !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/.test(p.path || '/')) refuse(field, `${JSON.stringify(p.path)} is not an HTTP path`);
  if (p.kind === 'exec' && (p.command.length === 0 || p.command.some((c) => c.includes('\0')))) refuse(field, 'command must be a non-empty argv');
}

/** Throws ReplicaCreateError('invalid_spec') naming the first bad field (everything here reaches the cluster). */
export function validateWorkloadSpec(spec: WorkloadSpec): void {
  validateReplicaSpec({ ...spec.template, labels: { ...spec.template.labels, slot: 0, restarts: 0 } });
  const l = spec.template.labels;
  // Kubernetes label values: at most 63 characters, alphanumeric at both ends.
  for (const [field, value] of [
    ['labels.dataCenter', l.dataCenter],
    ['labels.tenantId', l.tenantId],
    ['labels.appId', l.appId],
    ['labels.componentId', l.componentId],
    ['labels.versionId', l.versionId],
  ] as const)
    if (value.length > 63 || !LABEL_VALUE.test(value))
      refuse(field, `${JSON.stringify(value)} must be at most 63 characters, starting and ending with a letter or digit`);
  if (!Number.isInteger(spec.replicas) || spec.replicas < 0 || spec.replicas > 10_000) refuse('replicas', `${spec.replicas} out of range`);
  for (const [field, v] of [
    ['maxSurge', spec.maxSurge],
    ['maxUnavailable', spec.maxUnavailable],
    ['generation', spec.generation],
  ] as const)
    if (!Number.isInteger(v) || v < 0) refuse(field, `${v} must be a non-negative integer`);
  if (!Number.isInteger(spec.progressDeadlineMs) || spec.progressDeadlineMs < 1000) refuse('progressDeadlineMs', 'at least 1000');
  if (spec.template.volumes.some((v) => !Number.isInteger(v.sizeMib) || v.sizeMib < 1)) refuse('volumes', 'sizeMib must be at least 1');
  if (spec.template.volumes.length > 0 && !spec.stateful) refuse('stateful', 'a component with volumes is stateful');
  validateProbe('readiness', spec.readiness);
  validateProbe('liveness', spec.liveness);
  for (const [key, value] of Object.entries(spec.placement ?? {})) {
    const slash = key.lastIndexOf('/');
    if (!LABEL_KEY.test(key) || key.length - slash - 1 > 63 || slash > 253) refuse('placement', `${JSON.stringify(key)} is not a label name`);
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value))
      refuse(
        'placement',
        `${JSON.stringify(key)}=${JSON.stringify(value)}: the value must be at most 63 characters, starting and ending with a letter or digit`,
      );
  }
}

function envOf(spec: WorkloadSpec, secretName: string): V1EnvVar[] {
  return spec.template.env.map((e) =>
    // A secret's value lives only in the Secret: the pod spec names the key.
    e.secret ? { name: e.name, valueFrom: { secretKeyRef: { name: secretName, key: e.name } } } : { name: e.name, value: e.value },
  );
}

function containerOf(spec: WorkloadSpec, secretName: string, naming: KubernetesNaming): V1Container {
  const t = spec.template;
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  if (t.cpuMillis > 0) {
    limits.cpu = quantityCpu(t.cpuMillis);
    requests.cpu = quantityCpu(t.cpuMillis * naming.cpuRequestRatio);
  }
  if (t.memoryMib > 0) limits.memory = requests.memory = `${t.memoryMib}Mi`;
  return {
    name: CONTAINER,
    image: t.image,
    // Images come from the data center's registry by immutable tags; a node that has one uses it.
    // One from any other registry is never pulled (as on Docker): the node must have it already.
    imagePullPolicy: naming.pullRegistries && !naming.pullRegistries.includes(registryOf(t.image)) ? 'Never' : 'IfNotPresent',
    env: envOf(spec, secretName),
    ports: t.ports.map((p) => ({ containerPort: p.port, protocol: 'TCP' })),
    resources: { limits, requests },
    ...(spec.readiness ? { readinessProbe: probeOf(spec.readiness) } : {}),
    ...(spec.liveness ? { livenessProbe: probeOf(spec.liveness) } : {}),
    volumeMounts: t.volumes.map((v) => ({ name: v.name, mountPath: v.mountPath })),
    securityContext: { allowPrivilegeEscalation: false },
  };
}

/** Every object of a workload, in the order they are applied (owner references are added by the driver once the workload has a uid). */
export function workloadObjects(spec: WorkloadSpec, naming: KubernetesNaming): WorkloadObjects {
  validateWorkloadSpec(spec);
  const t = spec.template;
  const l = t.labels;
  const ns = namespaceName(naming.namePrefix, l.tenantId);
  const name = workloadName(t.names, l.componentId);
  const secretName = envSecretName(name);
  const selector = componentSelector(l.dataCenter, l.componentId);
  const componentLabels = {
    ...selector,
    [LABEL.tenantId]: l.tenantId,
    [LABEL.appId]: l.appId,
    ...recommended(spec, name),
  };
  const podLabels = { ...componentLabels, [LABEL.versionId]: l.versionId, [LABEL.template]: l.template };
  const tenantLabels = { [LABEL.dataCenter]: l.dataCenter, [LABEL.tenantId]: l.tenantId, 'app.kubernetes.io/managed-by': 'wharf' };
  const meta = (objectName: string, labels: Record<string, string> = componentLabels) => ({ name: objectName, namespace: ns, labels });

  const secrets = t.env.filter((e) => e.secret);
  const envSecret: V1Secret | undefined = secrets.length
    ? {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: meta(secretName),
        type: 'Opaque',
        stringData: Object.fromEntries(secrets.map((e) => [e.name, e.value])),
      }
    : undefined;

  const pullSecret: V1Secret | undefined = naming.pullSecret
    ? {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: naming.pullSecret.name, namespace: ns, labels: tenantLabels },
        type: 'kubernetes.io/dockerconfigjson',
        stringData: {
          '.dockerconfigjson': JSON.stringify({
            auths: {
              [naming.pullSecret.registry]: {
                username: naming.pullSecret.username,
                password: naming.pullSecret.password,
                auth: Buffer.from(`${naming.pullSecret.username}:${naming.pullSecret.password}`).toString('base64'),
              },
            },
          }),
        },
      }
    : undefined;

  const placement = spec.placement ?? {};
  const podSpec = {
    containers: [containerOf(spec, secretName, naming)],
    ...(Object.keys(placement).length ? { nodeSelector: { ...placement } } : {}),
    // Replicas spread over nodes, softly (ScheduleAnyway): 1.20 still counts a cordoned node as a
    // domain, so a hard rule (DoNotSchedule) would leave replicas of a drained node Pending. Set
    // whatever the replica count: it is part of the pod template, so a scale that added it would
    // roll every pod.
    topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: SPREAD_TOPOLOGY_KEY, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
    ],
    terminationGracePeriodSeconds: Math.ceil(t.stopGraceMs / 1000),
    ...(pullSecret ? { imagePullSecrets: [{ name: pullSecret.metadata!.name! }] } : {}),
    // The API server's token is of no use to a tenant's code.
    automountServiceAccountToken: false,
  };
  const podTemplate = {
    metadata: {
      labels: podLabels,
      // A restart raises the generation: a new pod template, so the runtime rolls every replica.
      annotations: { 'wharf/restart-generation': String(spec.generation) },
    },
    spec: podSpec,
  };

  const surge = spec.maxSurge === 0 && spec.maxUnavailable === 0 ? 1 : spec.maxSurge;
  const workload = spec.stateful
    ? {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: meta(name),
        spec: {
          replicas: spec.replicas,
          serviceName: name,
          selector: { matchLabels: selector },
          podManagementPolicy: 'OrderedReady',
          // A StatefulSet has no `paused`: a partition as high as the replica count holds every pod at its revision.
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: spec.paused ? spec.replicas : 0 } },
          template: podTemplate,
          volumeClaimTemplates: t.volumes.map((v) => ({
            metadata: { name: v.name, labels: { ...componentLabels, [LABEL.volume]: v.name } },
            spec: {
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: `${v.sizeMib}Mi` } },
              ...(naming.storageClass ? { storageClassName: naming.storageClass } : {}),
            },
          })),
        },
      }
    : {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: meta(name),
        spec: {
          replicas: spec.replicas,
          selector: { matchLabels: selector },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: spec.maxUnavailable } },
          paused: spec.paused,
          progressDeadlineSeconds: Math.ceil(spec.progressDeadlineMs / 1000),
          revisionHistoryLimit: 5,
          template: podTemplate,
        },
      };

  const service: V1Service | undefined =
    t.ports.length === 0 && !spec.stateful
      ? undefined
      : {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: meta(name),
          spec: {
            selector,
            // Stateful replicas are reached one by one (their own DNS names): no virtual IP.
            ...(spec.stateful ? { clusterIP: 'None' } : {}),
            publishNotReadyAddresses: false,
            ports: t.ports.map((p) => ({ name: `p${p.port}`, port: p.port, targetPort: p.port, protocol: 'TCP' })),
          },
        };

  const budget =
    naming.pdbApiVersion && spec.replicas > 1
      ? {
          apiVersion: naming.pdbApiVersion,
          kind: 'PodDisruptionBudget',
          metadata: meta(name),
          spec: { selector: { matchLabels: selector }, maxUnavailable: 1 },
        }
      : undefined;

  return {
    namespace: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: tenantLabels } },
    networkPolicy: networkPolicyOf(ns, tenantLabels, naming.gatewayCidrs),
    ...(pullSecret ? { pullSecret } : {}),
    ...(envSecret ? { envSecret } : {}),
    workload,
    service,
    ...(budget ? { budget } : {}),
  };
}

/** Tenant isolation: pods of the namespace admit only each other and the gateway. */
export function networkPolicyOf(namespace: string, labels: Record<string, string>, gatewayCidrs: string[]): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: NETWORK_POLICY_NAME, namespace, labels },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress'],
      // The client serializes its model types: `_from` goes out as `from`.
      ingress: [
        {
          _from: [
            { podSelector: {} },
            { namespaceSelector: { matchLabels: { [GATEWAY_NAMESPACE_LABEL]: 'true' } } },
            ...gatewayCidrs.map((cidr) => ({ ipBlock: { cidr } })),
          ],
        },
      ],
    },
  };
}

/** Adds the owner reference that makes the cluster delete `child` with the workload. */
export function ownedBy<T extends KubernetesObject>(child: T, owner: { apiVersion: string; kind: string; name: string; uid: string }): T {
  return {
    ...child,
    metadata: {
      ...child.metadata,
      ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: false, blockOwnerDeletion: true }],
    },
  };
}

// ---- pods -> replica states ----

/** Why a pod is not running well, in the cluster's own words (undefined when nothing is wrong). */
export interface PodTrouble {
  reason: string;
  /** Needs the container's last log lines (a crash loop). */
  wantsLogs: boolean;
}

const IMAGE_REASONS = new Set(['ImagePullBackOff', 'ErrImagePull', 'ErrImageNeverPull', 'InvalidImageName']);
/** Pull failures the kubelet tries again (after a 10 s back-off, then 20 s, ...). */
const RETRIED_PULL_REASONS = new Set(['ImagePullBackOff', 'ErrImagePull']);
/** The registry says the image is not there: no retry will change that. */
const IMAGE_ABSENT = /code = NotFound|manifest unknown|not found/i;
/**
 * How long a pull failure other than "not found" counts as passing, from the pod's start: long
 * enough for the kubelet's first retry. The kubelet waits only briefly (1 s in 1.20's
 * watch-based secret manager) for a new pod's pull secret to reach its cache and pulls without it
 * when that is late: seen in CI on a loaded machine as a 401 from the data center's own registry,
 * which failed the deploy on the first pull.
 */
export const PULL_RETRY_GRACE_MS = 30_000;

function statusOf(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === CONTAINER) ?? pod.status?.containerStatuses?.[0];
}

function terminatedOf(c: V1ContainerStatus | undefined) {
  return c?.state?.terminated ?? c?.lastState?.terminated;
}

const time = (t: Date | string | undefined) => {
  const ms = t ? new Date(t).getTime() : NaN;
  return Number.isFinite(ms) ? ms : undefined;
};

/** `nowMs`: the time a failing pull is judged at (a pull that may still succeed is no trouble yet). */
export function podTrouble(pod: V1Pod, nowMs = Date.now()): PodTrouble | undefined {
  const c = statusOf(pod);
  const waiting = c?.state?.waiting;
  const image = pod.spec?.containers?.find((x) => x.name === CONTAINER)?.image ?? c?.image ?? '';
  if (waiting?.reason && IMAGE_REASONS.has(waiting.reason)) {
    const since = time(pod.status?.startTime) ?? time(pod.metadata?.creationTimestamp);
    const retried = RETRIED_PULL_REASONS.has(waiting.reason) && !IMAGE_ABSENT.test(waiting.message ?? '');
    if (retried && since !== undefined && nowMs - since < PULL_RETRY_GRACE_MS) return undefined;
    return { reason: `${waiting.reason}: image ${image} cannot be pulled${waiting.message ? `: ${waiting.message}` : ''}`, wantsLogs: false };
  }
  const last = terminatedOf(c);
  if (waiting?.reason === 'CrashLoopBackOff') {
    const what = last?.reason === 'OOMKilled' ? 'OOMKilled (it used more memory than its limit)' : `exited with code ${last?.exitCode ?? 'unknown'}`;
    return { reason: `CrashLoopBackOff: ${what}, restarted ${c?.restartCount ?? 0} time(s)`, wantsLogs: true };
  }
  if (waiting?.reason === 'CreateContainerConfigError' || waiting?.reason === 'CreateContainerError' || waiting?.reason === 'RunContainerError')
    return { reason: `${waiting.reason}: ${waiting.message ?? ''}`.trim(), wantsLogs: false };
  if (c?.state?.terminated?.reason === 'OOMKilled' || (c?.lastState?.terminated?.reason === 'OOMKilled' && !c?.ready))
    return { reason: 'OOMKilled: it used more memory than its limit', wantsLogs: true };
  const scheduled = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable')
    return { reason: `Unschedulable: ${scheduled.message ?? ''}`.trim(), wantsLogs: false };
  if (pod.status?.phase === 'Failed') return { reason: `${pod.status.reason ?? 'Failed'}: ${pod.status.message ?? ''}`.trim(), wantsLogs: true };
  return undefined;
}

/** Replica id of a pod: `<namespace>/<name>`, readable and enough to read it again. */
export function podId(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

const POD_ID = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)$/;

/** The namespace and name of a replica id, or undefined when it cannot be one. */
export function parsePodId(id: string): { namespace: string; name: string } | undefined {
  const m = POD_ID.exec(id);
  return m ? { namespace: m[1], name: m[3] } : undefined;
}

/** A StatefulSet pod's slot (ordinal + 1, like Docker's stable slots 1..N); 0 for a Deployment's pods. */
function slotOf(pod: V1Pod): number {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
  if (owner?.kind !== 'StatefulSet') return 0;
  const m = /-(\d+)$/.exec(pod.metadata?.name ?? '');
  return m ? Number(m[1]) + 1 : 0;
}

/**
 * The replica a pod is, or undefined when it is not one of this data center's. `lastLines`: its
 * crash's last log lines, when read. `served`: what its Service's EndpointSlices say (then its
 * readiness and address are theirs, see podReadiness), undefined where the cluster has none.
 */
export function replicaFromPod(pod: V1Pod, dataCenter: string, lastLines?: string, served?: ServedPods, nowMs = Date.now()): ReplicaState | undefined {
  const raw = pod.metadata?.labels ?? {};
  if (raw[LABEL.dataCenter] !== dataCenter) return undefined;
  const c = statusOf(pod);
  const labels = fromLabels({ ...raw, [LABEL.slot]: String(slotOf(pod)), [LABEL.restarts]: String(c?.restartCount ?? 0) });
  if (!labels) return undefined;
  const trouble = podTrouble(pod, nowMs);
  const last = terminatedOf(c);
  let phase: ReplicaPhase;
  if (pod.metadata?.deletionTimestamp) phase = 'removing';
  else
    switch (pod.status?.phase) {
      case 'Running':
        phase = c?.state?.terminated ? 'exited' : 'running';
        break;
      case 'Succeeded':
      case 'Failed':
        phase = 'exited';
        break;
      case 'Unknown':
        phase = 'dead';
        break;
      default:
        phase = 'creating';
    }
  const { ready, address } = podReadiness(pod, served);
  const oom = last?.reason === 'OOMKilled';
  const error = trouble ? (lastLines ? `${trouble.reason}; last lines: ${lastLines.replace(/\n/g, ' | ')}` : trouble.reason) : undefined;
  return {
    id: podId(pod),
    name: pod.metadata?.name ?? '',
    labels,
    phase,
    ready,
    ...(last && (phase === 'exited' || trouble) ? { exitCode: last.exitCode } : {}),
    ...(oom ? { oomKilled: true } : {}),
    ...(error ? { error } : {}),
    startedAtMs: time(c?.state?.running?.startedAt) ?? time(pod.status?.startTime),
    finishedAtMs: time(c?.state?.terminated?.finishedAt),
    address,
    node: pod.spec?.nodeName ?? '',
    hostPorts: [],
  };
}

/**
 * A pod being deleted whose container no longer runs: nothing of the replica is left but the
 * kubelet's clean-up, so it is no replica any more (listings leave it out). The 1.20 kubelet
 * deletes such a pod only once its dead container is removed, often by its container garbage
 * collection (a one-minute loop): measured 6-56 s after the container stopped, which every delete
 * and stop waited for.
 */
export function podFinished(pod: V1Pod): boolean {
  if (!pod.metadata?.deletionTimestamp) return false;
  const c = statusOf(pod);
  return !c?.state?.running;
}

const QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const UNIT: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** Bytes of a memory quantity as this driver writes them ("64Mi") and the common others; 0 when unreadable. */
export function quantityBytes(q: string | undefined): number {
  const m = QUANTITY.exec(q ?? '');
  return m ? Math.round(Number(m[1]) * (m[2] ? UNIT[m[2]] : 1)) : 0;
}

interface SummaryContainer {
  name?: string;
  cpu?: { usageNanoCores?: number };
  memory?: { workingSetBytes?: number };
}

/**
 * A running pod's cpu and memory from its node's kubelet summary (GET /stats/summary, through
 * the API server's node proxy: the cluster's metrics API needs metrics-server, which 1.20 test
 * clusters and many others lack). cpu is the kubelet's rate over its last two samples (0 until it
 * has two); memory is the working set, what the memory limit is enforced on.
 */
export function usageFromSummary(summary: unknown, pod: V1Pod): ReplicaUsage | undefined {
  if (!statusOf(pod)?.state?.running || pod.metadata?.deletionTimestamp) return undefined;
  const pods = (summary as { pods?: { podRef?: { name?: string; namespace?: string }; containers?: SummaryContainer[] }[] } | undefined)?.pods;
  const entry = pods?.find((p) => p.podRef?.name === pod.metadata?.name && p.podRef?.namespace === pod.metadata?.namespace);
  const c = entry?.containers?.find((x) => x.name === CONTAINER);
  if (!c) return undefined;
  const limit = pod.spec?.containers?.find((x) => x.name === CONTAINER)?.resources?.limits?.memory;
  return {
    cpuMillis: Math.round((c.cpu?.usageNanoCores ?? 0) / 1e6),
    memoryBytes: c.memory?.workingSetBytes ?? 0,
    memoryLimitBytes: quantityBytes(limit),
  };
}

/** A pod's place in a listing: changes when anything the replica state shows may have changed. */
export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.uid}:${pod.metadata?.resourceVersion}`;
}

/** Restart count of the pod's container (crash-loop log lines are read once per restart). */
export function restartsOf(pod: V1Pod): number {
  return statusOf(pod)?.restartCount ?? 0;
}

/** The workload object's namespace and name for a component (what removeWorkload deletes). */
export function workloadRef(spec: Pick<WorkloadSpec, 'template'>, namePrefix: string): { namespace: string; name: string } {
  return { namespace: namespaceName(namePrefix, spec.template.labels.tenantId), name: workloadName(spec.template.names, spec.template.labels.componentId) };
}

/** The Services the env's dependency hosts name, by env variable (in the workload's namespace). */
export function dependencyServices(spec: WorkloadSpec): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of spec.template.env)
    if (e.hostOf && !e.secret) out.set(e.name, workloadName({ app: e.hostOf.app, component: e.hostOf.component }, e.hostOf.componentId));
  return out;
}

/**
 * A dependency's host as pods reach it: its Service's DNS name where the cluster runs DNS
 * (clusterDomain given), else its ClusterIP (Debian's test cluster has no CoreDNS). A headless
 * Service (stateful) has no ClusterIP: without DNS the value stays as it was.
 */
export function serviceHostOf(service: V1Service | undefined, clusterDomain: string | undefined): string | undefined {
  if (!service?.metadata?.name) return undefined;
  if (clusterDomain) return `${service.metadata.name}.${service.metadata.namespace}.svc.${clusterDomain}`;
  const ip = service.spec?.clusterIP;
  return ip && ip !== 'None' ? ip : undefined;
}

/** The spec with the dependency hosts the cluster resolved put in (the others kept). */
export function withHosts(spec: WorkloadSpec, hosts: Map<string, string>): WorkloadSpec {
  if (hosts.size === 0) return spec;
  return { ...spec, template: { ...spec.template, env: spec.template.env.map((e) => (hosts.has(e.name) ? { ...e, value: hosts.get(e.name)! } : e)) } };
}
