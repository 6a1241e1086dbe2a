import type { V1Pod } from '@kubernetes/client-node';
import { changedPods, podReadiness, servedPods, sliceFromObject, type SliceView } from './kubernetes-endpoint-slices';

// Shapes as the API serves them: v1beta1 as read from the 1.20 test cluster, v1 as 1.21+ serve it.
const meta = (name: string, service = 'shop-api-1a2b3c') => ({
  name,
  namespace: 'wharf-acme',
  labels: {
    'kubernetes.io/service-name': service,
    'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    'wharf/component': 'acme.shop.api',
  },
});
const ref = (name: string) => ({ kind: 'Pod', name, namespace: 'wharf-acme', uid: `uid-${name}` });

const v1beta1 = {
  apiVersion: 'discovery.k8s.io/v1beta1',
  kind: 'EndpointSlice',
  metadata: meta('shop-api-1a2b3c-x7k2p'),
  addressType: 'IPv4',
  ports: [{ name: 'p8080', port: 8080, protocol: 'TCP' }],
  endpoints: [
    {
      addresses: ['10.128.1.3'],
      conditions: { ready: true },
      targetRef: ref('api-a'),
      topology: { 'kubernetes.io/hostname': 'node-1', 'topology.kubernetes.io/zone': 'z1' },
    },
    { addresses: ['10.128.1.4'], conditions: { ready: false }, targetRef: ref('api-b'), topology: { 'kubernetes.io/hostname': 'node-1' } },
  ],
};

const v1 = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: meta('shop-api-1a2b3c-q9w8e'),
  addressType: 'IPv4',
  ports: [{ name: 'p8080', port: 8080, protocol: 'TCP' }],
  endpoints: [
    { addresses: ['10.128.2.5'], conditions: { ready: true, serving: true, terminating: false }, targetRef: ref('api-c'), nodeName: 'node-2', zone: 'z2' },
    // Terminating but still answering: serving, never ready.
    { addresses: ['10.128.2.6'], conditions: { ready: false, serving: true, terminating: true }, targetRef: ref('api-d'), nodeName: 'node-2' },
    // No conditions at all: unknown, read as ready (both versions say so).
    { addresses: ['10.128.2.7'], targetRef: ref('api-e') },
  ],
};

describe('EndpointSlice shapes (one mapping for discovery.k8s.io/v1beta1 and v1)', () => {
  it('maps a v1beta1 slice: conditions.ready, node and zone from its topology', () => {
    expect(sliceFromObject(v1beta1)).toEqual<SliceView>({
      namespace: 'wharf-acme',
      name: 'shop-api-1a2b3c-x7k2p',
      serviceName: 'shop-api-1a2b3c',
      labels: v1beta1.metadata.labels,
      ports: [{ name: 'p8080', port: 8080, protocol: 'TCP' }],
      endpoints: [
        {
          address: '10.128.1.3',
          ready: true,
          serving: true,
          terminating: false,
          pod: { namespace: 'wharf-acme', name: 'api-a', uid: 'uid-api-a' },
          node: 'node-1',
          zone: 'z1',
        },
        {
          address: '10.128.1.4',
          ready: false,
          serving: false,
          terminating: false,
          pod: { namespace: 'wharf-acme', name: 'api-b', uid: 'uid-api-b' },
          node: 'node-1',
        },
      ],
    });
  });

  it('maps a v1 slice: ready, serving and terminating, nodeName and zone', () => {
    expect(sliceFromObject(v1)?.endpoints).toEqual([
      {
        address: '10.128.2.5',
        ready: true,
        serving: true,
        terminating: false,
        pod: { namespace: 'wharf-acme', name: 'api-c', uid: 'uid-api-c' },
        node: 'node-2',
        zone: 'z2',
      },
      {
        address: '10.128.2.6',
        ready: false,
        serving: true,
        terminating: true,
        pod: { namespace: 'wharf-acme', name: 'api-d', uid: 'uid-api-d' },
        node: 'node-2',
      },
      { address: '10.128.2.7', ready: true, serving: true, terminating: false, pod: { namespace: 'wharf-acme', name: 'api-e', uid: 'uid-api-e' } },
    ]);
  });

  it('never counts a terminating endpoint as ready, even where ready is left set (a 1.20 alpha gate adds the condition to v1beta1)', () => {
    const slice = { ...v1beta1, endpoints: [{ addresses: ['10.128.1.9'], conditions: { ready: true, terminating: true }, targetRef: ref('api-z') }] };
    expect(sliceFromObject(slice)?.endpoints[0]).toMatchObject({ ready: false, serving: true, terminating: true });
  });

  it('reads v1 objects as the client deserializes them (deprecatedTopology) the same way', () => {
    const slice = {
      ...v1,
      endpoints: [
        { addresses: ['10.128.2.8'], conditions: { ready: true }, targetRef: ref('api-f'), deprecatedTopology: { 'kubernetes.io/hostname': 'node-3' } },
      ],
    };
    expect(sliceFromObject(slice)?.endpoints[0]).toMatchObject({ node: 'node-3', ready: true });
  });

  it('leaves out FQDN slices, endpoints without an address, targets that are no pods, and what is no slice', () => {
    expect(sliceFromObject({ ...v1, addressType: 'FQDN' })).toBeUndefined();
    expect(sliceFromObject({ kind: 'EndpointSlice' })).toBeUndefined();
    expect(sliceFromObject(null)).toBeUndefined();
    const odd = sliceFromObject({
      ...v1,
      endpoints: [
        { addresses: [] },
        { conditions: { ready: true } },
        { addresses: ['10.0.0.9'], targetRef: { kind: 'Node', name: 'node-1', namespace: 'wharf-acme' } },
        'junk',
      ],
    });
    expect(odd?.endpoints).toEqual([{ address: '10.0.0.9', ready: true, serving: true, terminating: false }]);
  });

  it('maps a headless slice of a Service without ports (ports null)', () => {
    expect(sliceFromObject({ ...v1beta1, ports: null })?.ports).toEqual([]);
  });
});

describe('servedPods and podReadiness', () => {
  const pod = (name: string, ready: boolean, over: { ip?: string; instance?: string; ports?: number[] } = {}): V1Pod => ({
    metadata: { name, namespace: 'wharf-acme', labels: { 'app.kubernetes.io/instance': over.instance ?? 'shop-api-1a2b3c' } },
    spec: { containers: [{ name: 'app', ports: (over.ports ?? [8080]).map((containerPort) => ({ containerPort })) }] },
    status: { podIP: over.ip ?? '10.128.1.3', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
  const served = servedPods([sliceFromObject(v1beta1)!, sliceFromObject(v1)!]);

  it('without an EndpointSlice API: the pod is ready by its own Ready condition, at its pod IP', () => {
    expect(podReadiness(pod('api-a', true), undefined)).toEqual({ ready: true, address: '10.128.1.3' });
    expect(podReadiness(pod('api-b', false, { ip: '10.128.1.4' }), undefined)).toEqual({ ready: false, address: '10.128.1.4' });
  });

  it("with one: ready only while its Service's slices list it ready, whatever the pod's own condition says", () => {
    expect(podReadiness(pod('api-a', true), served)).toEqual({ ready: true, address: '10.128.1.3' });
    // The pod says Ready, the Service does not list it (yet, or any more): no endpoint.
    expect(podReadiness(pod('api-b', true, { ip: '10.128.1.4' }), served)).toEqual({ ready: false, address: '10.128.1.4' });
    expect(podReadiness(pod('api-new', true, { ip: '10.128.1.20' }), served)).toEqual({ ready: false, address: '10.128.1.20' });
    // The Service lists it ready before the pod's own status reached this listing.
    expect(podReadiness(pod('api-c', false, { ip: '10.128.2.5' }), served)).toEqual({ ready: true, address: '10.128.2.5' });
    expect(podReadiness(pod('api-d', true, { ip: '10.128.2.6' }), served).ready).toBe(false);
  });

  it('a pod without ports (a worker, no Service) is ready by its own condition even where slices are served', () => {
    expect(podReadiness(pod('worker-a', true, { instance: 'shop-worker-9f8e7d', ports: [] }), served)).toEqual({ ready: true, address: '10.128.1.3' });
    expect(podReadiness(pod('worker-b', false, { instance: 'shop-worker-9f8e7d', ports: [] }), served).ready).toBe(false);
  });

  it("counts only the pod's own Service (another Service selecting it says nothing about the component)", () => {
    expect(podReadiness(pod('api-a', true, { instance: 'other-svc' }), served).ready).toBe(false);
    const other = servedPods([sliceFromObject({ ...v1beta1, metadata: meta('other-svc-abcde', 'other-svc') })!]);
    expect(podReadiness(pod('api-a', true), other).ready).toBe(false);
  });

  it("takes the slice's address, preferring the pod IP when the pod is listed with several (dual stack)", () => {
    const v6 = {
      ...v1,
      metadata: meta('shop-api-1a2b3c-v6'),
      addressType: 'IPv6',
      endpoints: [{ addresses: ['fd00::5'], conditions: { ready: true }, targetRef: ref('api-c') }],
    };
    const both = servedPods([sliceFromObject(v6)!, sliceFromObject(v1)!]);
    expect(podReadiness(pod('api-c', true, { ip: '10.128.2.5' }), both)).toEqual({ ready: true, address: '10.128.2.5' });
    expect(podReadiness(pod('api-c', true, { ip: '' }), both)).toEqual({ ready: true, address: 'fd00::5' });
  });

  it('says which pods a change of a slice moved (in, out, readiness or address)', () => {
    const before = sliceFromObject(v1beta1)!;
    const after = sliceFromObject({
      ...v1beta1,
      endpoints: [
        v1beta1.endpoints[0],
        { ...v1beta1.endpoints[1], conditions: { ready: true } },
        { addresses: ['10.128.1.5'], conditions: { ready: false }, targetRef: ref('api-new') },
      ],
    })!;
    expect(changedPods(before, after).map((p) => p.name)).toEqual(['api-b', 'api-new']);
    expect(changedPods(before, before)).toEqual([]);
    expect(changedPods(undefined, before).map((p) => p.name)).toEqual(['api-a', 'api-b']);
    expect(changedPods(before, undefined)).toEqual([
      { namespace: 'wharf-acme', name: 'api-a' },
      { namespace: 'wharf-acme', name: 'api-b' },
    ]);
  });
});
