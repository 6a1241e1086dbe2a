import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReplicaEvent } from '../runtime-driver';
import { clientNode } from './client-node';
import { KubernetesDriver } from './kubernetes-driver';

// Where the driver takes a replica's readiness and address from, against a fake API server on
// 127.0.0.1: from its Service's EndpointSlices where the cluster serves discovery.k8s.io (v1beta1
// on 1.20, v1 from 1.21), from the pod's own Ready condition where it serves none; and its watch
// tells about a pod the Service starts routing to.

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const NS = 'wharf-acme';
const SERVICE = 'shop-api-x1';

function pod(name: string, ip: string, ready: boolean): Json {
  return {
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      resourceVersion: '10',
      labels: {
        'wharf/data-center': 'dc1',
        'wharf/tenant': 'acme',
        'wharf/app': 'acme.shop',
        'wharf/component': 'acme.shop.api',
        'wharf/version': 'v1',
        'wharf/template': 'abc123',
        'app.kubernetes.io/instance': SERVICE,
      },
    },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'img:v1', ports: [{ containerPort: 8080 }] }] },
    status: {
      phase: 'Running',
      podIP: ip,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [{ name: 'app', ready, restartCount: 0, image: 'img:v1', imageID: '', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }],
    },
  };
}

function slice(version: string, endpoints: { pod: string; ip: string; ready: boolean }[], resourceVersion = '20'): Json {
  return {
    apiVersion: version,
    kind: 'EndpointSlice',
    metadata: {
      name: `${SERVICE}-abcde`,
      namespace: NS,
      resourceVersion,
      labels: { 'kubernetes.io/service-name': SERVICE, 'wharf/data-center': 'dc1', 'wharf/component': 'acme.shop.api' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'p8080', port: 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready },
      targetRef: { kind: 'Pod', name: e.pod, namespace: NS, uid: `uid-${e.pod}` },
      ...(version.endsWith('v1beta1') ? { topology: { 'kubernetes.io/hostname': 'node-1' } } : { nodeName: 'node-1' }),
    })),
  };
}

interface Fake {
  server: Server;
  requests: string[];
  /** Open watch streams by resource path. */
  watches: Map<string, ServerResponse>;
  driver: KubernetesDriver;
  close(): Promise<void>;
}

/** A fake API server: discovery with `sliceVersion` (or without discovery.k8s.io), two pods (a Ready, b not), and the slices given. */
async function fake(sliceVersion: string | undefined, slices: Json[]): Promise<Fake> {
  const requests: string[] = [];
  const watches = new Map<string, ServerResponse>();
  const pods = [pod('api-a', '10.128.1.3', true), pod('api-b', '10.128.1.4', false)];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}${url.searchParams.get('watch') ? ' (watch)' : ''}`);
    const json = (code: number, value: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      watches.set(url.pathname, res);
      return;
    }
    if (url.pathname === '/apis')
      return json(200, {
        kind: 'APIGroupList',
        groups: sliceVersion ? [{ name: 'discovery.k8s.io', versions: [{ groupVersion: sliceVersion, version: sliceVersion.split('/')[1] }] }] : [],
      });
    if (sliceVersion && url.pathname === `/apis/${sliceVersion}`)
      return json(200, {
        kind: 'APIResourceList',
        groupVersion: sliceVersion,
        resources: [{ name: 'endpointslices', kind: 'EndpointSlice', namespaced: true }],
      });
    if (url.pathname === `/api/v1/namespaces/${NS}/pods` || url.pathname === '/api/v1/pods')
      return json(200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '100' }, items: pods });
    const one = pods.find((p) => url.pathname === `/api/v1/namespaces/${NS}/pods/${p.metadata.name}`);
    if (one) return json(200, { kind: 'Pod', apiVersion: 'v1', ...one });
    if (sliceVersion && (url.pathname === `/apis/${sliceVersion}/namespaces/${NS}/endpointslices` || url.pathname === `/apis/${sliceVersion}/endpointslices`)) {
      expect(url.searchParams.get('labelSelector')).toBe('wharf/data-center=dc1');
      return json(200, { kind: 'EndpointSliceList', apiVersion: sliceVersion, metadata: { resourceVersion: '100' }, items: slices });
    }
    json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const kc = new (clientNode().KubeConfig)();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return {
    server,
    requests,
    watches,
    driver: new KubernetesDriver({ dataCenter: 'dc1', kubeConfig: kc }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const w of watches.values()) w.end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const readiness = async (d: KubernetesDriver, tenantId?: string) =>
  (await d.listReplicas(tenantId ? { tenantId } : {})).map((r) => [r.name, r.ready, r.address, r.labels.versionId]);

describe('KubernetesDriver: readiness and addresses of replicas', () => {
  let f: Fake | undefined;
  // Loading the client (an ES module) takes seconds on a busy machine: not inside a test's time.
  beforeAll(() => void clientNode(), 60_000);
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('on a cluster without an EndpointSlice API: from the pods (their Ready condition, their IP), no slice is asked for', async () => {
    f = await fake(undefined, []);
    expect(await readiness(f.driver)).toEqual([
      ['api-a', true, '10.128.1.3', 'v1'],
      ['api-b', false, '10.128.1.4', 'v1'],
    ]);
    expect(f.requests.some((r) => r.includes('endpointslices'))).toBe(false);
  });

  it("on 1.20 (discovery.k8s.io/v1beta1): from the Service's slices, whatever the pods' own condition says", async () => {
    // a: Ready, but its Service does not route to it (yet); b: not Ready in this listing, the Service already routes to it.
    f = await fake('discovery.k8s.io/v1beta1', [
      slice('discovery.k8s.io/v1beta1', [
        { pod: 'api-a', ip: '10.128.1.3', ready: false },
        { pod: 'api-b', ip: '10.128.1.4', ready: true },
      ]),
    ]);
    expect(await readiness(f.driver, 'acme')).toEqual([
      ['api-a', false, '10.128.1.3', 'v1'],
      ['api-b', true, '10.128.1.4', 'v1'],
    ]);
    expect(f.requests).toContain(`GET /apis/discovery.k8s.io/v1beta1/namespaces/${NS}/endpointslices`);
  });

  it('on 1.21+ (discovery.k8s.io/v1): the same from v1 slices; a pod no slice lists is not ready', async () => {
    f = await fake('discovery.k8s.io/v1', [slice('discovery.k8s.io/v1', [{ pod: 'api-b', ip: '10.128.1.4', ready: true }])]);
    expect(await readiness(f.driver)).toEqual([
      ['api-a', false, '10.128.1.3', 'v1'],
      ['api-b', true, '10.128.1.4', 'v1'],
    ]);
    expect(f.requests).toContain('GET /apis/discovery.k8s.io/v1/endpointslices');
    expect(await f.driver.inspectReplica(`${NS}/api-b`)).toMatchObject({ ready: true, address: '10.128.1.4' });
  });

  it('watches the slices: a pod the Service starts routing to is told as a change, and listings read the watched slices', async () => {
    f = await fake('discovery.k8s.io/v1beta1', [slice('discovery.k8s.io/v1beta1', [{ pod: 'api-a', ip: '10.128.1.3', ready: true }])]);
    const events: ReplicaEvent[] = [];
    const stop = f.driver.watch((e) => events.push(e));
    const fk = f;
    try {
      const path = '/apis/discovery.k8s.io/v1beta1/endpointslices';
      await until(() => fk.watches.has(path) && fk.watches.has('/api/v1/pods'));
      events.length = 0;
      const listed = fk.requests.length;
      // b turns ready in its Service.
      const changed = slice(
        'discovery.k8s.io/v1beta1',
        [
          { pod: 'api-a', ip: '10.128.1.3', ready: true },
          { pod: 'api-b', ip: '10.128.1.4', ready: true },
        ],
        '21',
      );
      fk.watches.get(path)!.write(`${JSON.stringify({ type: 'MODIFIED', object: changed })}\n`);
      await until(() => events.length > 0);
      expect(events).toEqual([{ kind: 'changed', id: `${NS}/api-b`, labels: expect.objectContaining({ componentId: 'acme.shop.api', versionId: 'v1' }) }]);
      expect(await readiness(fk.driver)).toEqual([
        ['api-a', true, '10.128.1.3', 'v1'],
        ['api-b', true, '10.128.1.4', 'v1'],
      ]);
      // The listing took the slices from the informer: only pods were asked for.
      expect(fk.requests.slice(listed)).toEqual(['GET /api/v1/pods']);
    } finally {
      stop();
    }
  });
});

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
