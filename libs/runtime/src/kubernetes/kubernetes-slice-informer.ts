import type { KubeConfig, KubernetesListObject, KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { clientNode } from './client-node';
import { changedPods, sliceFromObject, type SliceView } from './kubernetes-endpoint-slices';

export type EndpointSliceVersion = 'discovery.k8s.io/v1' | 'discovery.k8s.io/v1beta1';

/** This data center's slices (of one namespace when given), by a plain list call. */
export async function listSlices(
  objects: KubernetesObjectApi,
  version: EndpointSliceVersion,
  labelSelector: string,
  namespace?: string,
): Promise<KubernetesListObject<KubernetesObject>> {
  return objects.list(version, 'EndpointSlice', namespace, undefined, undefined, undefined, undefined, labelSelector);
}

/**
 * An informer on this data center's EndpointSlices (list, then watch from its resource version;
 * started again after an error): the slices as they are now, for listReplicas, and a callback
 * with the pods a change moved in or out of their Service (ready or not, address), so the
 * reconciler looks again as soon as the Service does, not on its next resync.
 */
export class SliceInformer {
  private readonly slices = new Map<string, SliceView>();
  private informer?: ReturnType<ClientNode['makeInformer']>;
  private stopped = false;
  private failures = 0;
  private errors = 0;
  /** A full list has been applied since the last error: `list()` is the cluster's view (up to the watch's delay). */
  synced = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly objects: KubernetesObjectApi,
    readonly version: EndpointSliceVersion,
    private readonly labelSelector: string,
    private readonly onPods: (pods: { namespace: string; name: string }[]) => void,
    private readonly onError: (err: Error) => void,
  ) {}

  start(): void {
    const k8s = clientNode();
    const informer = k8s.makeInformer<KubernetesObject>(
      this.kc,
      `/apis/${this.version}/endpointslices`,
      () => listSlices(this.objects, this.version, this.labelSelector),
      this.labelSelector,
    );
    this.informer = informer;
    const key = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    const put = (o: KubernetesObject) => {
      const after = sliceFromObject(o);
      const before = this.slices.get(key(o));
      if (after) this.slices.set(key(o), after);
      else this.slices.delete(key(o));
      this.tell(changedPods(before, after));
    };
    informer.on('add', put);
    informer.on('update', put);
    informer.on('delete', (o) => {
      const before = this.slices.get(key(o));
      this.slices.delete(key(o));
      this.tell(changedPods(before, undefined));
    });
    informer.on('connect', () => {
      this.failures = 0;
    });
    informer.on('error', (err: unknown) => {
      this.synced = false;
      this.errors++;
      if (this.stopped) return;
      this.onError(err instanceof Error ? err : new Error(String(err)));
      setTimeout(() => this.run(), Math.min(5000, 100 * 2 ** this.failures++)).unref();
    });
    this.run();
  }

  /**
   * The informer's start() resolves once its list is applied and its watch is open, and also
   * after a failed list (which it reports as an error event): synced only when no error came meanwhile.
   */
  private run(): void {
    if (this.stopped || !this.informer) return;
    const errors = this.errors;
    this.informer.start().then(
      () => {
        if (!this.stopped && this.errors === errors) this.synced = true;
      },
      (err: unknown) => {
        if (!this.stopped) this.onError(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private tell(pods: { namespace: string; name: string }[]): void {
    if (pods.length && !this.stopped) this.onPods(pods);
  }

  /** The slices now (of one namespace when given). */
  list(namespace?: string): SliceView[] {
    const all = [...this.slices.values()];
    return namespace === undefined ? all : all.filter((s) => s.namespace === namespace);
  }

  stop(): void {
    this.stopped = true;
    this.synced = false;
    void this.informer?.stop();
  }
}

type ClientNode = ReturnType<typeof clientNode>;
