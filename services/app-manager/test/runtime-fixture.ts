import { DockerDriver, KubernetesDriver, LABEL, namespaceName, workloadName, type RuntimeDriver } from '@wharf/runtime';
import { dockerClient, startKubernetesCluster, type KubernetesCluster } from '@wharf/testing';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { containersOf, type Stack } from './harness';

/**
 * The runtime app-manager's behaviour suite runs against: the machine's Docker Engine, or a real
 * Kubernetes cluster started for the test file. It points app-manager at the runtime and reads
 * what the runtime itself holds for a component, without app-manager's help, so the suite can
 * compare the two.
 */
export interface RuntimeFixture {
  readonly runtime: 'docker' | 'kubernetes';
  /** Starts what the runtime needs (once per test file). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** app-manager's environment for this runtime (a fresh namespace prefix per stack on Kubernetes). */
  env(): Record<string, string>;
  /** Makes images of the machine's Docker Engine runnable by the runtime. */
  provide(images: readonly string[]): Promise<void>;
  /** What the runtime holds for a component (Docker: its containers; Kubernetes: its workload object and pods). */
  workload(s: Stack, componentId: string): Promise<RuntimeWorkload>;
  /** A driver of the stack's data center, for exec and listing (the test's own, not app-manager's). */
  driver(s: Stack): RuntimeDriver;
  /** SIGKILLs the main process of one running replica behind app-manager's back; its replica id. */
  kill(s: Stack, componentId: string): Promise<string>;
}

export interface RuntimeWorkload {
  /** Anything of the component is left in the runtime (a container; a Deployment, StatefulSet or Service). */
  exists: boolean;
  /** Replicas the runtime is asked to keep (Docker: containers; Kubernetes: the workload's spec.replicas). */
  replicas: number;
  /** Images the runtime runs the component with (Docker: of its containers; Kubernetes: the pod template's), sorted, unique. */
  images: string[];
  /** Version labels of the replicas that are not being removed, sorted. */
  versions: string[];
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function dockerRuntime(): RuntimeFixture {
  const docker = dockerClient();
  return {
    runtime: 'docker',
    start: async () => undefined,
    stop: async () => undefined,
    env: () => ({}),
    provide: async () => undefined,
    driver: (s) => new DockerDriver({ docker, dataCenter: s.dataCenter }),
    async workload(s, componentId) {
      const all = await containersOf(s, componentId);
      const live = all.filter((c) => c.State !== 'removing');
      return {
        exists: all.length > 0,
        replicas: live.length,
        images: [...new Set(live.map((c) => c.Image))].sort(),
        versions: live.map((c) => c.Labels[LABEL.versionId]).sort(),
      };
    },
    async kill(s, componentId) {
      const running = (await containersOf(s, componentId)).find((c) => c.State === 'running');
      if (!running) throw new Error(`no running container of ${componentId}`);
      await docker.getContainer(running.Id).kill({ signal: 'SIGKILL' });
      return running.Id;
    },
  };
}

let namespaces = 0;

/** One endpoint of a component's Service as its EndpointSlices list it, with the version label of the pod behind it. */
export interface ServiceEndpoint {
  replica: string;
  address: string;
  ready: boolean;
  versionId: string;
}

export function kubernetesRuntime(): RuntimeFixture & {
  cluster(): KubernetesCluster;
  serviceEndpoints(s: Stack, componentId: string): Promise<ServiceEndpoint[]>;
} {
  let cluster: KubernetesCluster | undefined;
  const prefixOf = (s: Stack) => {
    const p = s.env.WHARF_KUBERNETES_NAME_PREFIX;
    if (!p) throw new Error('the stack was not started with this fixture');
    return p;
  };
  const c = () => {
    if (!cluster) throw new Error('the cluster is not started');
    return cluster;
  };
  const names = (s: Stack, componentId: string) => {
    const [tenant, app, component] = componentId.split('.');
    return { namespace: namespaceName(prefixOf(s), tenant), name: workloadName({ app, component }, componentId) };
  };
  const get = async (path: string): Promise<Json | undefined> => {
    const res = await c().api<Json>('GET', path);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const pods = async (s: Stack, componentId: string): Promise<Json[]> => {
    const { namespace } = names(s, componentId);
    const selector = encodeURIComponent(`${LABEL.dataCenter}=${s.dataCenter},${LABEL.componentId}=${componentId}`);
    return ((await get(`/api/v1/namespaces/${namespace}/pods?labelSelector=${selector}`))?.items ?? []) as Json[];
  };
  return {
    runtime: 'kubernetes',
    cluster: c,
    async start() {
      cluster ??= await startKubernetesCluster();
    },
    async stop() {
      await cluster?.stop();
      cluster = undefined;
    },
    env: () => ({
      WHARF_RUNTIME: 'kubernetes',
      WHARF_KUBECONFIG: c().kubeconfigPath,
      // Stacks of one file share the cluster: each one's tenants get namespaces of their own.
      WHARF_KUBERNETES_NAME_PREFIX: `w${process.pid.toString(36)}${(namespaces++).toString(36)}`,
    }),
    async provide(images) {
      for (const image of images) await c().importImage(image);
    },
    driver: (s) => new KubernetesDriver({ dataCenter: s.dataCenter, kubeconfigPath: c().kubeconfigPath, namePrefix: prefixOf(s) }),
    async workload(s, componentId) {
      const { namespace, name } = names(s, componentId);
      const object =
        (await get(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`)) ?? (await get(`/apis/apps/v1/namespaces/${namespace}/statefulsets/${name}`));
      const service = await get(`/api/v1/namespaces/${namespace}/services/${name}`);
      const live = (await pods(s, componentId)).filter((p) => !p.metadata.deletionTimestamp);
      return {
        exists: Boolean(object || service),
        replicas: object?.spec.replicas ?? 0,
        images: object ? [...new Set<string>(object.spec.template.spec.containers.map((x: Json) => x.image as string))].sort() : [],
        versions: live.map((p) => p.metadata.labels[LABEL.versionId] as string).sort(),
      };
    },
    /** Every endpoint the EndpointSlices of the component's Service list (read from the API, as the cluster's controller wrote them), sorted by address. */
    async serviceEndpoints(s, componentId) {
      const { namespace, name } = names(s, componentId);
      const selector = encodeURIComponent(`kubernetes.io/service-name=${name}`);
      const slices = ((await get(`/apis/discovery.k8s.io/v1beta1/namespaces/${namespace}/endpointslices?labelSelector=${selector}`))?.items ?? []) as Json[];
      const versions = new Map((await pods(s, componentId)).map((p) => [p.metadata.name as string, p.metadata.labels[LABEL.versionId] as string]));
      return slices
        .flatMap((sl) => (sl.endpoints ?? []) as Json[])
        .map((e) => ({
          replica: e.targetRef?.name ?? '',
          address: e.addresses[0] as string,
          ready: e.conditions?.ready !== false,
          versionId: versions.get(e.targetRef?.name) ?? '',
        }))
        .sort((a, b) => a.address.localeCompare(b.address));
    },
    async kill(s, componentId) {
      const pod = (await pods(s, componentId)).find((p) => !p.metadata.deletionTimestamp && p.status.containerStatuses?.[0]?.state?.running);
      const containerId = /^containerd:\/\/(\w+)$/.exec(pod?.status.containerStatuses[0].containerID ?? '')?.[1];
      if (!pod || !containerId) throw new Error(`no running pod of ${componentId}`);
      const node = c().nodes.find((n) => n.name === pod.spec.nodeName);
      if (!node) throw new Error(`pod ${pod.metadata.name} is on no node of the cluster (${pod.spec.nodeName})`);
      // The container's process dies as in a crash: the kubelet restarts it in the same pod.
      await promisify(execFile)('ctr', ['-a', node.containerdSocket, '-n', 'k8s.io', 'tasks', 'kill', '-s', 'SIGKILL', containerId], { timeout: 30_000 });
      return `${pod.metadata.namespace}/${pod.metadata.name}`;
    },
  };
}
