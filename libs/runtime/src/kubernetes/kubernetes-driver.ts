import type { CoreV1Api, AppsV1Api, KubeConfig, KubernetesObject, KubernetesObjectApi, V1Namespace, V1Pod } from '@kubernetes/client-node';
import { UnavailableError } from '@wharf/errors';
import { PassThrough } from 'node:stream';
import { parseTimestamped } from '../docker/docker-mapping';
import { LABEL, matchesSelector, selectorFilters } from '../labels';
import {
  ReplicaCreateError,
  type CreateOptions,
  type ExecResult,
  type LogOptions,
  type ReplicaEvent,
  type ReplicaLogLine,
  type ReplicaSelector,
  type ReplicaSpec,
  type ReplicaState,
  type ReplicaUsage,
  type RuntimeDriver,
  type WorkloadSpec,
} from '../runtime-driver';
import { clientNode } from './client-node';
import { chooseApiVersions, groupsOf, type ApiChoice } from './kubernetes-discovery';
import { servedPods, sliceFromObject, type ServedPods, type SliceView } from './kubernetes-endpoint-slices';
import {
  CONTAINER,
  FIELD_MANAGER,
  componentSelector,
  dependencyServices,
  serviceHostOf,
  withHosts,
  ownedBy,
  parsePodId,
  podFinished,
  podKey,
  podTrouble,
  replicaFromPod,
  restartsOf,
  selectorString,
  usageFromSummary,
  workloadObjects,
  type KubernetesNaming,
} from './kubernetes-mapping';
import { envSecretName, namespaceName } from './kubernetes-names';
import { listSlices, SliceInformer } from './kubernetes-slice-informer';

export interface KubernetesDriverOptions {
  dataCenter: string;
  /** A kubeconfig file (WHARF_KUBECONFIG); undefined: the pod's in-cluster service account. */
  kubeconfigPath?: string;
  /** Or a config made elsewhere (tests). */
  kubeConfig?: KubeConfig;
  /** First part of every namespace (default "wharf"): data centers sharing a cluster use different ones. */
  namePrefix?: string;
  /** Credentials of the data center's registry: an image pull secret in every tenant namespace. */
  registryAuth?: { username: string; password: string; serveraddress: string };
  /** Registry hosts nodes may pull from; an image from any other must be on the node already (imagePullPolicy Never). Undefined: any. */
  pullRegistries?: string[];
  storageClass?: string;
  /** Where the gateway reaches pods from when it is not a pod itself (node addresses). */
  gatewayCidrs?: string[];
  /** cpu request as a share of the limit (default 0.25). */
  cpuRequestRatio?: number;
  /** Last log lines kept in a crash-looping replica's reason (default 5). */
  crashLines?: number;
  /** The cluster's DNS domain (e.g. cluster.local) when it runs DNS: dependencies are then reached by Service name, else by ClusterIP. */
  clusterDomain?: string;
  /** How long a deploy waits for the tenant's namespace to finish terminating before it fails (default 120 s). */
  namespaceGoneTimeoutMs?: number;
}

type ApiError = Error & { code?: number | string; body?: unknown; cause?: { code?: string } };

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'EPIPE', 'EACCES', 'ETIMEDOUT', 'EHOSTUNREACH']);
const PULL_SECRET = 'wharf-registry';

function statusCode(err: unknown): number | undefined {
  const c = (err as ApiError).code;
  return typeof c === 'number' ? c : undefined;
}

/** The API server's own message of a failed call. */
function messageOf(err: unknown): string {
  const body = (err as ApiError).body;
  const parsed = typeof body === 'string' ? safeJson(body) : body;
  if (parsed && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string') return (parsed as { message: string }).message;
  return (err as Error).message?.split('\n')[0] ?? String(err);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function unreachable(err: unknown): boolean {
  const e = err as ApiError;
  const code = typeof e.code === 'string' ? e.code : e.cause?.code;
  return (code !== undefined && CONNECTION_ERRORS.has(code)) || /ECONNREFUSED|socket hang up|connect E|request to .* failed/.test(e.message ?? '');
}

/**
 * RuntimeDriver on a Kubernetes cluster (@kubernetes/client-node 1.x). A tenant is a namespace;
 * a component is a Deployment (a StatefulSet when it has volumes) with its Service, its env
 * Secret and, with several replicas, a disruption budget, all made by server-side apply under
 * one field manager. The cluster rolls out and probes (capabilities 'runtime'); replicas are
 * the pods, found by the same labels as the docker driver's containers.
 */
export class KubernetesDriver implements RuntimeDriver {
  readonly kind = 'kubernetes';
  readonly capabilities = { probes: 'runtime', rollout: 'runtime' } as const;
  readonly dataCenter: string;
  readonly namePrefix: string;
  private readonly kc: KubeConfig;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly objects: KubernetesObjectApi;
  private apiChoice?: Promise<ApiChoice>;
  /** Crash-loop log lines by pod uid and restart count (read once per crash). */
  private readonly crashLines = new Map<string, { key: string; lines: string }>();
  /** The EndpointSlice informers of running watch() calls: listings read slices from a synced one instead of the API. */
  private readonly sliceInformers = new Set<SliceInformer>();

  constructor(private readonly options: KubernetesDriverOptions) {
    const k8s = clientNode();
    this.dataCenter = options.dataCenter;
    this.namePrefix = options.namePrefix ?? 'wharf';
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(this.namePrefix)) throw new Error(`kubernetes name prefix ${JSON.stringify(this.namePrefix)} must be a short DNS label`);
    if (options.kubeConfig) this.kc = options.kubeConfig;
    else {
      this.kc = new k8s.KubeConfig();
      if (options.kubeconfigPath) this.kc.loadFromFile(options.kubeconfigPath);
      else this.kc.loadFromCluster();
    }
    this.core = this.kc.makeApiClient(k8s.CoreV1Api);
    this.apps = this.kc.makeApiClient(k8s.AppsV1Api);
    this.objects = k8s.KubernetesObjectApi.makeApiClient(this.kc);
  }

  /** Runs an API call; a lost API server becomes UnavailableError (retry later), anything else is rethrown. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (unreachable(err)) throw new UnavailableError(`Kubernetes API unreachable (${what}): ${(err as Error).message}`, { cause: err, retryAfterMs: 1000 });
      throw err;
    }
  }

  private async ignoring404<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.call(what, fn);
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw err;
    }
  }

  /** Waits (bounded) until a terminating namespace is gone (undefined) or made again (by another replica); fails naming it past the wait. */
  private async namespaceSettled(ns: string): Promise<V1Namespace | undefined> {
    const timeoutMs = this.options.namespaceGoneTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await this.ignoring404('namespace read', () => this.core.readNamespace({ name: ns }));
      if (now?.status?.phase !== 'Terminating') return now;
      if (Date.now() >= deadline)
        throw new ReplicaCreateError(
          'start_failed',
          `namespace ${ns} is still being deleted after ${timeoutMs} ms (the tenant's last component went); try again shortly`,
        );
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** The API versions this cluster serves, read once. */
  apis(): Promise<ApiChoice> {
    this.apiChoice ??= this.call('discovery', () => this.kc.makeApiClient(clientNode().ApisApi).getAPIVersions())
      .then((list) => chooseApiVersions(groupsOf(list)))
      .catch((err: unknown) => {
        this.apiChoice = undefined;
        throw err;
      });
    return this.apiChoice;
  }

  async ping(): Promise<void> {
    await this.call('version', () => this.kc.makeApiClient(clientNode().VersionApi).getCode());
  }

  namespace(tenantId: string): string {
    return namespaceName(this.namePrefix, tenantId);
  }

  private naming(choice: ApiChoice): KubernetesNaming {
    const auth = this.options.registryAuth;
    return {
      namePrefix: this.namePrefix,
      pullSecret: auth ? { name: PULL_SECRET, registry: auth.serveraddress, username: auth.username, password: auth.password } : undefined,
      pullRegistries: this.options.pullRegistries,
      storageClass: this.options.storageClass,
      cpuRequestRatio: this.options.cpuRequestRatio ?? 0.25,
      gatewayCidrs: this.options.gatewayCidrs ?? [],
      pdbApiVersion: choice.podDisruptionBudget,
    };
  }

  private apply<T extends KubernetesObject>(obj: T): Promise<T> {
    const k8s = clientNode();
    return this.call(`apply ${obj.kind} ${obj.metadata?.name}`, () =>
      this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply),
    ).catch((err: unknown) => {
      if (err instanceof UnavailableError) throw err;
      const code = statusCode(err);
      if (code === 400 || code === 422)
        throw new ReplicaCreateError('invalid_spec', `the cluster refused ${obj.kind} ${obj.metadata?.name}: ${messageOf(err)}`, { cause: err });
      throw new ReplicaCreateError('start_failed', `cannot apply ${obj.kind} ${obj.metadata?.name}: ${messageOf(err)}`, { cause: err });
    });
  }

  async applyWorkload(spec: WorkloadSpec): Promise<void> {
    if (spec.template.labels.dataCenter !== this.dataCenter)
      throw new ReplicaCreateError('invalid_spec', `workload of data center ${spec.template.labels.dataCenter} given to the driver of ${this.dataCenter}`);
    const choice = await this.apis();
    const o = workloadObjects(await this.resolveHosts(spec), this.naming(choice));
    const ns = o.namespace.metadata!.name!;
    const name = o.workload.metadata!.name!;
    let existing = await this.ignoring404('namespace read', () => this.core.readNamespace({ name: ns }));
    // The tenant's last component went a moment ago: a namespace being deleted refuses new
    // objects, so the deploy waits for it to be gone and makes it again.
    if (existing?.status?.phase === 'Terminating') existing = await this.namespaceSettled(ns);
    // A namespace of that name that is not this tenant's (another data center's, or nobody's) is never taken over.
    if (
      existing &&
      (existing.metadata?.labels?.[LABEL.dataCenter] !== this.dataCenter || existing.metadata?.labels?.[LABEL.tenantId] !== spec.template.labels.tenantId)
    )
      throw new ReplicaCreateError(
        'name_taken',
        `namespace ${ns} exists but is not tenant ${spec.template.labels.tenantId}'s of data center ${this.dataCenter}`,
      );
    await this.apply(o.namespace);
    await this.apply(o.networkPolicy);
    if (o.pullSecret) await this.apply(o.pullSecret);
    // Children carry an owner reference to the workload: apply them with it from the first time
    // the workload exists on (a later apply without it would take it away again).
    const other = spec.stateful ? 'Deployment' : 'StatefulSet';
    const kindNow = o.workload.kind!;
    const before = await this.ignoring404('workload read', () =>
      kindNow === 'Deployment' ? this.apps.readNamespacedDeployment({ name, namespace: ns }) : this.apps.readNamespacedStatefulSet({ name, namespace: ns }),
    );
    const owner = (uid: string) => ({ apiVersion: 'apps/v1', kind: kindNow, name, uid });
    if (o.envSecret) await this.apply(before?.metadata?.uid ? ownedBy(o.envSecret, owner(before.metadata.uid)) : o.envSecret);
    const applied = await this.apply(o.workload);
    const uid = applied.metadata?.uid;
    if (!uid) throw new ReplicaCreateError('start_failed', `${kindNow} ${name} has no uid after apply`);
    if (o.envSecret && !before?.metadata?.uid) await this.apply(ownedBy(o.envSecret, owner(uid)));
    if (o.service) await this.apply(ownedBy(o.service, owner(uid)));
    // A component whose last port went has no Service any more.
    else await this.ignoring404('service delete', () => this.core.deleteNamespacedService({ name, namespace: ns }));
    if (o.budget) await this.apply(ownedBy(o.budget, owner(uid)));
    else if (choice.podDisruptionBudget)
      await this.ignoring404('budget delete', () =>
        this.objects.delete({ apiVersion: choice.podDisruptionBudget!, kind: 'PodDisruptionBudget', metadata: { name, namespace: ns } }),
      );
    // A component that gained (or lost) volumes changed kind: the other one goes.
    await this.ignoring404('old workload delete', () =>
      other === 'Deployment'
        ? this.apps.deleteNamespacedDeployment({ name, namespace: ns, propagationPolicy: 'Background' })
        : this.apps.deleteNamespacedStatefulSet({ name, namespace: ns, propagationPolicy: 'Background' }),
    );
    if (!o.envSecret) await this.ignoring404('env secret delete', () => this.core.deleteNamespacedSecret({ name: envSecretName(name), namespace: ns }));
  }

  /** Dependency hosts as this cluster's pods reach them (a dependency not deployed yet keeps its alias until the next apply). */
  private async resolveHosts(spec: WorkloadSpec): Promise<WorkloadSpec> {
    const wanted = dependencyServices(spec);
    if (wanted.size === 0) return spec;
    const namespace = this.namespace(spec.template.labels.tenantId);
    const hosts = new Map<string, string>();
    for (const [env, name] of wanted) {
      const service = await this.ignoring404('dependency service', () => this.core.readNamespacedService({ name, namespace }));
      const host = serviceHostOf(service, this.options.clusterDomain);
      if (host) hosts.set(env, host);
    }
    return withHosts(spec, hosts);
  }

  async removeWorkload(ref: { tenantId: string; componentId: string }): Promise<void> {
    const ns = this.namespace(ref.tenantId);
    const labelSelector = selectorString(componentSelector(this.dataCenter, ref.componentId));
    const [deployments, statefulSets] = await Promise.all([
      this.ignoring404('deployments', () => this.apps.listNamespacedDeployment({ namespace: ns, labelSelector })),
      this.ignoring404('statefulsets', () => this.apps.listNamespacedStatefulSet({ namespace: ns, labelSelector })),
    ]);
    const names = new Set<string>();
    // Scaled to 0 first (the Deployment and its ReplicaSets themselves: the Deployment may be gone
    // before its controller passes the 0 on), so the ReplicaSet controller deletes the pods at
    // once; the garbage collector (owner references) took ~40 s to get to them on the test cluster.
    const zero = (name: string) => ({ name, namespace: ns, body: { metadata: { name, namespace: ns }, spec: { replicas: 0 } } });
    for (const d of deployments?.items ?? []) {
      const name = d.metadata!.name!;
      names.add(name);
      await this.ignoring404('deployment scale', () => this.apps.replaceNamespacedDeploymentScale(zero(name)));
      const sets = await this.ignoring404('replicasets', () => this.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector }));
      for (const rs of sets?.items ?? [])
        if (rs.metadata?.ownerReferences?.some((o) => o.uid === d.metadata?.uid) && rs.spec?.replicas)
          await this.ignoring404('replicaset scale', () => this.apps.replaceNamespacedReplicaSetScale(zero(rs.metadata!.name!)));
      await this.ignoring404('deployment delete', () => this.apps.deleteNamespacedDeployment({ name, namespace: ns, propagationPolicy: 'Background' }));
    }
    for (const s of statefulSets?.items ?? []) {
      const name = s.metadata!.name!;
      names.add(name);
      await this.ignoring404('statefulset scale', () => this.apps.replaceNamespacedStatefulSetScale(zero(name)));
      await this.ignoring404('statefulset delete', () => this.apps.deleteNamespacedStatefulSet({ name, namespace: ns, propagationPolicy: 'Background' }));
    }
    // A StatefulSet deletes its pods one by one, and it is gone already: its pods go now, directly
    // (no controller is left to make them again; a Deployment's ReplicaSets were scaled to 0 above).
    if (statefulSets?.items.length)
      await this.ignoring404('statefulset pods delete', () => this.core.deleteCollectionNamespacedPod({ namespace: ns, labelSelector }));
    // The owner references take the children with the workload; these are removed at once as well,
    // so the component's Service stops answering now and a Secret made before its owner is not left.
    for (const name of names) {
      await this.ignoring404('service delete', () => this.core.deleteNamespacedService({ name, namespace: ns }));
      await this.ignoring404('secret delete', () => this.core.deleteNamespacedSecret({ name: envSecretName(name), namespace: ns }));
    }
  }

  private async toReplica(pod: V1Pod, served: ServedPods | undefined): Promise<ReplicaState | undefined> {
    const trouble = podTrouble(pod);
    let lines: string | undefined;
    if (trouble?.wantsLogs && pod.metadata?.uid) {
      const key = `${restartsOf(pod)}`;
      const cached = this.crashLines.get(pod.metadata.uid);
      if (cached?.key === key) lines = cached.lines;
      else {
        lines = await this.lastLines(pod).catch(() => '');
        this.crashLines.set(pod.metadata.uid, { key, lines });
      }
    }
    return replicaFromPod(pod, this.dataCenter, lines || undefined, served);
  }

  /**
   * What the EndpointSlices of this data center's Services say about their pods (of one
   * namespace when given), or undefined where the cluster serves no EndpointSlice API (pods are
   * then ready by their own condition). Read from a running watch's informer once it has synced,
   * else listed. The slices carry their Service's labels (the EndpointSlice controller copies
   * them; seen on 1.20), which is how this data center's are selected.
   */
  private async served(namespace?: string): Promise<ServedPods | undefined> {
    const version = (await this.apis()).endpointSlice;
    if (!version) return undefined;
    const informer = [...this.sliceInformers].find((i) => i.synced && i.version === version);
    if (informer) return servedPods(informer.list(namespace));
    const labelSelector = `${LABEL.dataCenter}=${this.dataCenter}`;
    const list = await this.ignoring404('endpointslices', () => listSlices(this.objects, version, labelSelector, namespace));
    return servedPods(
      (list?.items ?? []).flatMap((o): SliceView[] => {
        const slice = sliceFromObject(o);
        return slice ? [slice] : [];
      }),
    );
  }

  /** The crashed container's last lines (its previous run when it has been restarted). */
  private async lastLines(pod: V1Pod): Promise<string> {
    const read = (previous: boolean) =>
      this.core.readNamespacedPodLog({
        name: pod.metadata!.name!,
        namespace: pod.metadata!.namespace!,
        container: CONTAINER,
        previous,
        tailLines: this.options.crashLines ?? 5,
      });
    const text = await read(restartsOf(pod) > 0).catch(() => read(false));
    return String(text ?? '').trimEnd();
  }

  async listReplicas(selector: ReplicaSelector = {}): Promise<ReplicaState[]> {
    const { slot: _slot, ...labelled } = selector;
    void _slot; // not a pod label: filtered below
    const labelSelector = selectorFilters(this.dataCenter, labelled).join(',');
    const list =
      selector.tenantId !== undefined
        ? await this.ignoring404('pods', () => this.core.listNamespacedPod({ namespace: this.namespace(selector.tenantId!), labelSelector }))
        : await this.call('pods', () => this.core.listPodForAllNamespaces({ labelSelector }));
    const out: ReplicaState[] = [];
    const seen = new Set<string>();
    const served = list?.items.length ? await this.served(selector.tenantId !== undefined ? this.namespace(selector.tenantId) : undefined) : undefined;
    for (const pod of list?.items ?? []) {
      if (pod.metadata?.uid) seen.add(pod.metadata.uid);
      if (podFinished(pod)) continue;
      const r = await this.toReplica(pod, served);
      if (r && matchesSelector(r.labels, this.dataCenter, selector)) out.push(r);
    }
    if (Object.keys(selector).length === 0) for (const uid of this.crashLines.keys()) if (!seen.has(uid)) this.crashLines.delete(uid);
    return out.sort((a, b) => a.labels.slot - b.labels.slot || a.name.localeCompare(b.name));
  }

  private async readPod(id: string): Promise<V1Pod | undefined> {
    const ref = parsePodId(id);
    if (!ref) return undefined;
    return this.ignoring404('pod read', () => this.core.readNamespacedPod(ref));
  }

  async inspectReplica(id: string): Promise<ReplicaState | undefined> {
    const pod = await this.readPod(id);
    return pod ? this.toReplica(pod, await this.served(pod.metadata?.namespace)) : undefined;
  }

  /**
   * Not on Kubernetes: the cluster's controllers make and replace pods from the workload
   * (applyWorkload), and the reconciler does not create single replicas when the runtime rolls
   * out. A bare pod would be a second, unhealed way of running a component.
   */
  async createReplica(spec: ReplicaSpec, _options?: CreateOptions): Promise<ReplicaState> {
    void _options;
    throw new ReplicaCreateError(
      'invalid_spec',
      `the kubernetes runtime rolls out whole workloads (applyWorkload); it does not create single replicas (asked for replica ${spec.labels.slot} of ${spec.labels.componentId})`,
    );
  }

  async removeReplica(id: string, options: { graceMs?: number } = {}): Promise<void> {
    const pod = await this.readPod(id);
    if (!pod) return;
    if (pod.metadata?.labels?.[LABEL.dataCenter] !== this.dataCenter)
      throw new Error(`pod ${id} is not a replica of data center ${this.dataCenter}; not removing it`);
    await this.ignoring404('pod delete', () =>
      this.core.deleteNamespacedPod({
        name: pod.metadata!.name!,
        namespace: pod.metadata!.namespace!,
        gracePeriodSeconds: Math.max(0, Math.ceil((options.graceMs ?? 10_000) / 1000)),
      }),
    );
  }

  async removeVolumes(selector: ReplicaSelector): Promise<string[]> {
    const labelSelector = selectorFilters(this.dataCenter, { tenantId: selector.tenantId, appId: selector.appId, componentId: selector.componentId }).join(',');
    const list = await this.call('claims', () => this.core.listPersistentVolumeClaimForAllNamespaces({ labelSelector }));
    const removed: string[] = [];
    for (const c of list.items) {
      if (c.metadata?.labels?.[LABEL.dataCenter] !== this.dataCenter) continue;
      await this.ignoring404('claim delete', () =>
        this.core.deleteNamespacedPersistentVolumeClaim({ name: c.metadata!.name!, namespace: c.metadata!.namespace! }),
      );
      removed.push(c.metadata!.name!);
    }
    return removed;
  }

  async releaseTenant(tenantId: string): Promise<boolean> {
    const ns = this.namespace(tenantId);
    const existing = await this.ignoring404('namespace read', () => this.core.readNamespace({ name: ns }));
    if (!existing) return true;
    if (existing.metadata?.labels?.[LABEL.dataCenter] !== this.dataCenter) return false; // not ours: never deleted
    const labelSelector = `${LABEL.dataCenter}=${this.dataCenter}`;
    const [deployments, statefulSets, pods] = await Promise.all([
      this.call('deployments', () => this.apps.listNamespacedDeployment({ namespace: ns, labelSelector })),
      this.call('statefulsets', () => this.apps.listNamespacedStatefulSet({ namespace: ns, labelSelector })),
      this.call('pods', () => this.core.listNamespacedPod({ namespace: ns, labelSelector })),
    ]);
    if (deployments.items.length || statefulSets.items.length || pods.items.some((p) => !podFinished(p))) return false;
    // Their containers have stopped; a 1.20 kubelet removes such pods only at its container GC,
    // and the namespace (so a deploy of the tenant meanwhile) would wait for it: they go now.
    for (const pod of pods.items)
      await this.ignoring404('finished pod delete', () => this.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: ns, gracePeriodSeconds: 0 }));
    await this.ignoring404('namespace delete', () => this.core.deleteNamespace({ name: ns }));
    return true;
  }

  async exec(id: string, command: string[], options: { timeoutMs: number }): Promise<ExecResult> {
    const ref = parsePodId(id);
    if (!ref) return { exitCode: -1, output: `no such replica ${id}` };
    let output = '';
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) => {
      if (output.length < 4096) output += chunk.toString('utf8');
    });
    const k8s = clientNode();
    return new Promise<ExecResult>((resolve) => {
      let done = false;
      let socket: { close(): void } | undefined;
      const finish = (r: ExecResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket?.close();
        resolve(r);
      };
      const timer = setTimeout(() => finish({ exitCode: -1, output: `${output}[timed out after ${options.timeoutMs} ms]` }), options.timeoutMs);
      new k8s.Exec(this.kc)
        .exec(ref.namespace, ref.name, CONTAINER, command, sink, sink, null, false, (status) => {
          // Success, or Failure with the exit code as a cause ("NonZeroExitCode").
          const code = status.status === 'Success' ? 0 : Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? -1);
          setImmediate(() =>
            finish({ exitCode: Number.isFinite(code) ? code : -1, output: output.trimEnd() || (status.status === 'Success' ? '' : (status.message ?? '')) }),
          );
        })
        .then((ws) => {
          socket = ws;
          if (done) ws.close();
          ws.on('close', () => setTimeout(() => finish({ exitCode: -1, output: output.trimEnd() }), 200));
        })
        .catch((err: unknown) => finish({ exitCode: -1, output: `exec failed: ${messageOf(err)}` }));
    });
  }

  async *logs(id: string, options: LogOptions): AsyncIterable<ReplicaLogLine> {
    const ref = parsePodId(id);
    if (!ref) return;
    const sink = new PassThrough();
    let controller: AbortController;
    try {
      controller = await new (clientNode().Log)(this.kc).log(ref.namespace, ref.name, CONTAINER, sink, {
        follow: options.follow,
        timestamps: true,
        ...(options.tail > 0 || !options.follow ? { tailLines: options.tail } : {}),
        ...(options.sinceMs ? { sinceTime: new Date(options.sinceMs).toISOString() } : {}),
      });
    } catch (err) {
      if (statusCode(err) === 404 || statusCode(err) === 400 || options.signal?.aborted) return;
      throw err;
    }
    const stop = () => {
      controller.abort();
      sink.end();
    };
    options.signal?.addEventListener('abort', stop, { once: true });
    let rest = '';
    try {
      for await (const chunk of sink as AsyncIterable<Buffer>) {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        // The API merges stdout and stderr into one stream.
        for (const line of lines) if (line) yield parseTimestamped(line, 'stdout');
      }
      if (rest) yield parseTimestamped(rest, 'stdout');
    } catch (err) {
      if (!options.signal?.aborted) throw err;
    } finally {
      options.signal?.removeEventListener('abort', stop);
      controller.abort();
    }
  }

  /**
   * From the pod's node: the kubelet's /stats/summary through the API server's node proxy (RBAC:
   * nodes/proxy get). Not the metrics API: that needs metrics-server, which the 1.20 test cluster
   * (and many others) lack. One summary per node is shared by the calls of the next second (a
   * status asks for every replica at once).
   */
  async usage(id: string): Promise<ReplicaUsage | undefined> {
    const pod = await this.readPod(id);
    const node = pod?.spec?.nodeName;
    if (!pod || !node || pod.metadata?.labels?.[LABEL.dataCenter] !== this.dataCenter) return undefined;
    return usageFromSummary(await this.nodeSummary(node), pod);
  }

  private readonly summaries = new Map<string, { atMs: number; summary: Promise<unknown> }>();

  private nodeSummary(node: string): Promise<unknown> {
    const now = Date.now();
    const cached = this.summaries.get(node);
    if (cached && now - cached.atMs < 1000) return cached.summary;
    const summary = this.call('node stats', () => this.core.connectGetNodeProxyWithPath({ name: node, path: 'stats/summary' })).then((body: unknown) =>
      typeof body === 'string' ? safeJson(body) : body,
    );
    summary.catch(() => this.summaries.delete(node));
    this.summaries.set(node, { atMs: now, summary });
    return summary;
  }

  /** An informer on this data center's pods (list, then watch from its resource version), started again after an error. */
  watch(onEvent: (event: ReplicaEvent) => void, onError?: (err: Error) => void): () => void {
    const k8s = clientNode();
    const labelSelector = `${LABEL.dataCenter}=${this.dataCenter}`;
    const informer = k8s.makeInformer<V1Pod>(this.kc, '/api/v1/pods', () => this.core.listPodForAllNamespaces({ labelSelector }), labelSelector);
    let stopped = false;
    let failures = 0;
    const keys = new Map<string, string>();
    const tell = (kind: ReplicaEvent['kind'], pod: V1Pod) => {
      const r = replicaFromPod(pod, this.dataCenter);
      onEvent({ kind, id: `${pod.metadata?.namespace}/${pod.metadata?.name}`, labels: r?.labels });
    };
    informer.on('add', (pod) => {
      keys.set(pod.metadata?.uid ?? '', podKey(pod));
      tell('created', pod);
      if (pod.status?.phase === 'Running') tell('started', pod);
    });
    informer.on('update', (pod) => {
      const uid = pod.metadata?.uid ?? '';
      if (keys.get(uid) === podKey(pod)) return;
      keys.set(uid, podKey(pod));
      tell(updateKind(pod), pod);
    });
    informer.on('delete', (pod) => {
      keys.delete(pod.metadata?.uid ?? '');
      this.crashLines.delete(pod.metadata?.uid ?? '');
      tell('removed', pod);
    });
    informer.on('connect', () => {
      failures = 0;
    });
    informer.on('error', (err: unknown) => {
      if (stopped) return;
      onError?.(err instanceof Error ? err : new Error(String(err)));
      setTimeout(
        () => {
          if (!stopped) informer.start().catch(() => undefined);
        },
        Math.min(5000, 100 * 2 ** failures++),
      ).unref();
    });
    informer.start().catch((err: unknown) => {
      if (!stopped) onError?.(err instanceof Error ? err : new Error(String(err)));
    });
    // Where the cluster serves EndpointSlices, their changes are replica changes too: a pod the
    // Service starts or stops sending traffic to (told with the labels of the pod as last seen).
    let slices: SliceInformer | undefined;
    const startSlices = (attempt: number) => {
      this.apis().then(
        (choice) => {
          if (stopped || !choice.endpointSlice) return;
          slices = new SliceInformer(
            this.kc,
            this.objects,
            choice.endpointSlice,
            labelSelector,
            (pods) => {
              for (const p of pods) {
                const pod = informer.get(p.name, p.namespace);
                if (pod) tell('changed', pod);
              }
            },
            (err) => onError?.(err),
          );
          this.sliceInformers.add(slices);
          slices.start();
        },
        (err: unknown) => {
          if (stopped) return;
          onError?.(err instanceof Error ? err : new Error(String(err)));
          setTimeout(() => !stopped && startSlices(attempt + 1), Math.min(5000, 100 * 2 ** attempt)).unref();
        },
      );
    };
    startSlices(0);
    return () => {
      stopped = true;
      void informer.stop();
      if (slices) {
        slices.stop();
        this.sliceInformers.delete(slices);
      }
    };
  }
}

/** What a pod update means for the replica: its process ended (or was OOM killed), it runs, or something else changed. */
export function updateKind(pod: V1Pod): ReplicaEvent['kind'] {
  const c = pod.status?.containerStatuses?.find((x) => x.name === CONTAINER);
  const ended = c?.state?.terminated ?? (c?.state?.waiting ? c?.lastState?.terminated : undefined);
  if (ended) return ended.reason === 'OOMKilled' ? 'oom' : 'died';
  if (c?.state?.running) return 'started';
  return 'changed';
}
