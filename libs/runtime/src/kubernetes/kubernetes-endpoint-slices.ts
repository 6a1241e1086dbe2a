import type { V1Pod } from '@kubernetes/client-node';

/**
 * EndpointSlices as the driver reads them (pure). A component's Service has its slices made by
 * the cluster's EndpointSlice controller (label kubernetes.io/service-name, the Service's own
 * labels copied on, which is how this data center's slices are found): they say which pods the
 * Service sends traffic to now. Both API versions in one shape:
 *
 *   discovery.k8s.io/v1beta1 (1.17-1.24; the only one on 1.20): conditions.ready (serving and
 *     terminating only behind a 1.20 alpha gate), topology["kubernetes.io/hostname"] and the zone label;
 *   discovery.k8s.io/v1 (1.21+): conditions.ready / serving / terminating, nodeName, zone.
 *
 * A nil condition means "unknown", which both versions say to read as ready (serving: as ready;
 * terminating: not terminating). A terminating endpoint never counts as ready (v1 already says
 * ready=false for it).
 */

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface SliceEndpoint {
  address: string;
  /** The Service sends new traffic to it. */
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** The pod behind it (targetRef of kind Pod), when there is one. */
  pod?: { namespace: string; name: string; uid?: string };
  node?: string;
  zone?: string;
}

export interface SliceView {
  namespace: string;
  name: string;
  /** The Service it belongs to ('' when the label is missing). */
  serviceName: string;
  labels: Record<string, string>;
  ports: { name: string; port: number; protocol: string }[];
  endpoints: SliceEndpoint[];
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
const strings = (v: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(v) ?? {}).filter(([, x]) => typeof x === 'string')) as Record<string, string>;

const HOSTNAME = 'kubernetes.io/hostname';
const ZONES = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'];

function endpointOf(raw: unknown): SliceEndpoint | undefined {
  const e = obj(raw);
  const address = Array.isArray(e?.addresses) ? str(e.addresses[0]) : undefined;
  if (!e || !address) return undefined;
  const c = obj(e.conditions) ?? {};
  const terminating = bool(c.terminating) ?? false;
  const ready = (bool(c.ready) ?? true) && !terminating;
  const serving = bool(c.serving) ?? bool(c.ready) ?? true;
  const ref = obj(e.targetRef);
  // v1beta1 `topology`; v1 keeps it as `deprecatedTopology` beside nodeName and zone.
  const topology = { ...strings(e.deprecatedTopology), ...strings(e.topology) };
  const node = str(e.nodeName) ?? topology[HOSTNAME];
  const zone = str(e.zone) ?? ZONES.map((z) => topology[z]).find(Boolean);
  const pod =
    ref && (ref.kind ?? 'Pod') === 'Pod' && str(ref.name) && str(ref.namespace)
      ? { namespace: ref.namespace as string, name: ref.name as string, ...(str(ref.uid) ? { uid: ref.uid as string } : {}) }
      : undefined;
  return { address, ready, serving, terminating, ...(pod ? { pod } : {}), ...(node ? { node } : {}), ...(zone ? { zone } : {}) };
}

/** One EndpointSlice of either version as a SliceView; undefined for what is no slice of IP addresses (FQDN slices are deprecated and never made for pods). */
export function sliceFromObject(raw: unknown): SliceView | undefined {
  const s = obj(raw);
  const meta = obj(s?.metadata);
  if (!s || !meta || !str(meta.name) || !str(meta.namespace)) return undefined;
  const type = str(s.addressType) ?? 'IPv4';
  if (type !== 'IPv4' && type !== 'IPv6') return undefined;
  const labels = strings(meta.labels);
  return {
    namespace: meta.namespace as string,
    name: meta.name as string,
    serviceName: labels[SERVICE_NAME_LABEL] ?? '',
    labels,
    ports: (Array.isArray(s.ports) ? s.ports : []).flatMap((p) => {
      const port = obj(p);
      return typeof port?.port === 'number' ? [{ name: str(port.name) ?? '', port: port.port, protocol: str(port.protocol) ?? 'TCP' }] : [];
    }),
    endpoints: (Array.isArray(s.endpoints) ? s.endpoints : []).flatMap((e) => {
      const x = endpointOf(e);
      return x ? [x] : [];
    }),
  };
}

/** What a Service's slices say about one pod. */
export interface PodServing {
  /** Some slice lists it ready. */
  ready: boolean;
  /** Its addresses in the slices (ready ones first). */
  addresses: string[];
}

/** `<namespace>/<service>/<pod>` -> what that Service's slices say of the pod (several slices, or both address families, may list one pod). */
export type ServedPods = Map<string, PodServing>;

/** Every pod the slices list, by Service (another Service selecting the same pod says nothing about the component's). */
export function servedPods(slices: readonly SliceView[]): ServedPods {
  const found = new Map<string, { ready: string[]; other: string[] }>();
  for (const s of slices)
    for (const e of s.endpoints) {
      if (!e.pod || e.pod.namespace !== s.namespace) continue;
      const key = `${s.namespace}/${s.serviceName}/${e.pod.name}`;
      const seen = found.get(key) ?? { ready: [], other: [] };
      (e.ready ? seen.ready : seen.other).push(e.address);
      found.set(key, seen);
    }
  // Ready addresses first, each in the order the slices list them.
  return new Map([...found].map(([key, f]) => [key, { ready: f.ready.length > 0, addresses: [...f.ready, ...f.other] }]));
}

/** The Service a Wharf pod belongs to: its workload's name (app.kubernetes.io/instance, the same name as the workload and its Service). */
export function serviceOfPod(pod: V1Pod): string | undefined {
  return pod.metadata?.labels?.['app.kubernetes.io/instance'];
}

/** Readiness and address of a pod as the replica shows them. */
export interface PodReadiness {
  ready: boolean;
  address: string;
}

/**
 * Where a pod's readiness comes from. With no EndpointSlice API (`served` undefined) the pod's
 * own Ready condition, and its pod IP. With one, its Service's slices: ready only while a slice
 * of its Service lists it ready (so a rollout is in place when the Service routes to the new
 * pods, and a pod the Service dropped is no endpoint), at the address the slice gives (the pod
 * IP where the slice has it too); a pod no slice lists yet is not ready. A pod with no container
 * port has no Service to be listed by (see workloadObjects): its own Ready condition again.
 */
export function podReadiness(pod: V1Pod, served: ServedPods | undefined): PodReadiness {
  const podIp = pod.status?.podIP ?? '';
  const listens = pod.spec?.containers.some((c) => (c.ports?.length ?? 0) > 0) ?? false;
  if (!served || !listens) return { ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false, address: podIp };
  const entry = served.get(`${pod.metadata?.namespace ?? ''}/${serviceOfPod(pod) ?? ''}/${pod.metadata?.name ?? ''}`);
  if (!entry?.ready) return { ready: false, address: podIp };
  return { ready: true, address: entry.addresses.includes(podIp) ? podIp : entry.addresses[0] };
}

/** The pods of a slice that its change may have moved in or out of the Service (compared with the slice before, if any). */
export function changedPods(before: SliceView | undefined, after: SliceView | undefined): { namespace: string; name: string }[] {
  const state = (s: SliceView | undefined) => new Map((s?.endpoints ?? []).filter((e) => e.pod).map((e) => [e.pod!.name, `${e.ready}:${e.address}`]));
  const a = state(before);
  const b = state(after);
  const namespace = (after ?? before)?.namespace ?? '';
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names].filter((n) => a.get(n) !== b.get(n)).map((name) => ({ namespace, name }));
}
