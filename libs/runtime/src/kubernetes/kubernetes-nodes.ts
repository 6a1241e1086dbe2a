import type { CoreV1Api, KubeConfig, KubernetesObjectApi, V1Node, V1Pod } from '@kubernetes/client-node';
import { UnavailableError } from '@wharf/errors';
import { request } from 'node:https';
import { clientNode } from './client-node';
import { chooseApiVersions, groupsOf } from './kubernetes-discovery';

/** The field manager of what node-manager applies to Node objects (its labels, spec.unschedulable). */
export const NODE_FIELD_MANAGER = 'wharf-node-manager';

/** A cluster node as node-manager needs it (pure data, see nodeFacts). */
export interface ClusterNode {
  name: string;
  /** The kubelet reports Ready; false when NotReady or Unknown (its kubelet is silent). */
  ready: boolean;
  readyMessage: string;
  unschedulable: boolean;
  labels: Record<string, string>;
  /** Label keys node-manager applied (its managed fields): the ones it may take away again. */
  ownedLabels: string[];
}

/** A pod on a node, as a drain needs it. */
export interface NodePod {
  namespace: string;
  name: string;
  /** Owned by a controller that is not a DaemonSet, and not a static (mirror) pod: a drain moves it. */
  movable: boolean;
  terminating: boolean;
  ready: boolean;
  phase: string;
}

export type EvictionResult = 'evicted' | 'gone' | { blocked: string };

export interface KubernetesNodesOptions {
  kubeconfigPath?: string;
  kubeConfig?: KubeConfig;
}

type ApiError = Error & { code?: number | string; body?: unknown; cause?: { code?: string } };

function statusCode(err: unknown): number | undefined {
  const c = (err as ApiError).code;
  return typeof c === 'number' ? c : undefined;
}

function apiMessage(err: unknown): string {
  const body = (err as ApiError).body;
  let parsed: unknown = body;
  if (typeof body === 'string')
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  const m = parsed && typeof parsed === 'object' ? (parsed as { message?: unknown }).message : undefined;
  return typeof m === 'string' ? m : ((err as Error).message?.split('\n')[0] ?? String(err));
}

/** Label keys of one manager's Apply entry in managedFields (fieldsV1 "f:metadata" -> "f:labels" -> "f:<key>"). */
export function ownedLabelKeys(node: V1Node, manager: string): string[] {
  const entry = node.metadata?.managedFields?.find((f) => f.manager === manager && f.operation === 'Apply');
  const labels = (entry?.fieldsV1 as Record<string, Record<string, Record<string, unknown>>> | undefined)?.['f:metadata']?.['f:labels'];
  return labels
    ? Object.keys(labels)
        .filter((k) => k.startsWith('f:'))
        .map((k) => k.slice(2))
    : [];
}

export function nodeFacts(node: V1Node, manager = NODE_FIELD_MANAGER): ClusterNode {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    name: node.metadata?.name ?? '',
    ready: ready?.status === 'True',
    readyMessage: ready ? `${ready.reason ?? ready.status}: ${ready.message ?? ''}`.trim() : 'no Ready condition yet',
    unschedulable: node.spec?.unschedulable === true,
    labels: { ...(node.metadata?.labels ?? {}) },
    ownedLabels: ownedLabelKeys(node, manager),
  };
}

export function podFacts(pod: V1Pod): NodePod {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
  const mirror = pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined;
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    movable: !!owner && owner.kind !== 'DaemonSet' && !mirror,
    terminating: !!pod.metadata?.deletionTimestamp,
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    phase: pod.status?.phase ?? 'Unknown',
  };
}

/**
 * The cluster's Node objects as node-manager drives them: read one, apply its labels and
 * unschedulable flag (server-side apply under NODE_FIELD_MANAGER, so labels it no longer
 * applies go away and nobody else's are touched), list its pods, evict one through the
 * Eviction API (which honours PodDisruptionBudgets; policy/v1 or v1beta1 by discovery, as the
 * driver chooses), delete one (force: grace 0, for pods no kubelet will confirm).
 */
export class KubernetesNodes {
  private readonly kc: KubeConfig;
  private readonly core: CoreV1Api;
  private readonly objects: KubernetesObjectApi;
  private evictionVersion?: Promise<string>;

  constructor(o: KubernetesNodesOptions = {}) {
    const k8s = clientNode();
    if (o.kubeConfig) this.kc = o.kubeConfig;
    else {
      this.kc = new k8s.KubeConfig();
      if (o.kubeconfigPath) this.kc.loadFromFile(o.kubeconfigPath);
      else this.kc.loadFromCluster();
    }
    this.core = this.kc.makeApiClient(k8s.CoreV1Api);
    this.objects = k8s.KubernetesObjectApi.makeApiClient(this.kc);
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (statusCode(err) === undefined)
        throw new UnavailableError(`Kubernetes API unreachable (${what}): ${(err as Error).message}`, { cause: err, retryAfterMs: 1000 });
      throw new Error(`Kubernetes ${what}: ${apiMessage(err)}`, { cause: err });
    }
  }

  /** The node, or undefined when the cluster has none of that name. */
  async node(name: string): Promise<ClusterNode | undefined> {
    try {
      return nodeFacts(await this.core.readNode({ name }));
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      return this.call(`read node ${name}`, () => Promise.reject(err as Error));
    }
  }

  async nodes(): Promise<ClusterNode[]> {
    const list = await this.call('list nodes', () => this.core.listNode());
    return list.items.map((n) => nodeFacts(n));
  }

  /** Applies exactly these labels (of node-manager's) and the unschedulable flag. */
  async applyNode(name: string, desired: { labels: Record<string, string>; unschedulable: boolean }): Promise<void> {
    const k8s = clientNode();
    await this.call(`apply node ${name}`, () =>
      this.objects.patch(
        { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: desired.labels }, spec: { unschedulable: desired.unschedulable } },
        undefined,
        undefined,
        NODE_FIELD_MANAGER,
        true,
        k8s.PatchStrategy.ServerSideApply,
      ),
    );
  }

  async podsOn(name: string): Promise<NodePod[]> {
    const list = await this.call(`list pods of node ${name}`, () => this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name}` }));
    return list.items.map(podFacts);
  }

  private eviction(): Promise<string> {
    this.evictionVersion ??= this.call('discovery', () => this.kc.makeApiClient(clientNode().ApisApi).getAPIVersions())
      .then((l) => chooseApiVersions(groupsOf(l)).podDisruptionBudget ?? 'policy/v1beta1')
      .catch((err: unknown) => {
        this.evictionVersion = undefined;
        throw err;
      });
    return this.evictionVersion;
  }

  /** Asks the API server to evict the pod; a budget that allows no disruption now answers blocked (429), with its message. */
  async evict(pod: Pick<NodePod, 'namespace' | 'name'>): Promise<EvictionResult> {
    const apiVersion = await this.eviction();
    try {
      await this.core.createNamespacedPodEviction({
        name: pod.name,
        namespace: pod.namespace,
        body: { apiVersion, kind: 'Eviction', metadata: { name: pod.name, namespace: pod.namespace } },
      });
      return 'evicted';
    } catch (err) {
      const code = statusCode(err);
      if (code === 404) return 'gone';
      if (code === 429) return { blocked: apiMessage(err) };
      return this.call(`evict pod ${pod.namespace}/${pod.name}`, () => Promise.reject(err as Error));
    }
  }

  /** Deletes the pod; force: at once (grace 0), the API's record only, for a pod on a node whose kubelet is gone. */
  async deletePod(pod: Pick<NodePod, 'namespace' | 'name'>, o: { force: boolean }): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({ name: pod.name, namespace: pod.namespace, ...(o.force ? { gracePeriodSeconds: 0 } : {}) });
    } catch (err) {
      if (statusCode(err) === 404) return;
      await this.call(`delete pod ${pod.namespace}/${pod.name}`, () => Promise.reject(err as Error));
    }
  }

  /**
   * Local clock minus the API server's, ms, from its Date header (whole seconds: the middle of
   * the second is taken, so the error is within about half a second plus the round trip).
   */
  async skewMs(now: () => number): Promise<number> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig names no cluster');
    const url = new URL('/version', cluster.server);
    const opts: import('node:https').RequestOptions = { method: 'GET', hostname: url.hostname, port: url.port, path: url.pathname, timeout: 3000 };
    await this.kc.applyToHTTPSOptions(opts);
    const sent = now();
    const date = await new Promise<string>((resolve, reject) => {
      const req = request(opts, (res) => {
        res.resume();
        res.on('end', () => (res.headers.date ? resolve(res.headers.date) : reject(new Error('the API server sent no Date header'))));
      });
      req.on('timeout', () => req.destroy(new Error('the API server did not answer within 3 s')));
      req.on('error', reject);
      req.end();
    });
    const received = now();
    const server = Date.parse(date);
    if (Number.isNaN(server)) throw new Error(`the API server's Date ${JSON.stringify(date)} is no time`);
    return Math.round((sent + received) / 2 - (server + 500));
  }
}
