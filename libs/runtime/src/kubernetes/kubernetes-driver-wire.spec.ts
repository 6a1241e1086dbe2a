import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkloadSpec } from '../runtime-driver';
import { clientNode } from './client-node';
import { KubernetesDriver } from './kubernetes-driver';

// What the driver sends over the wire (client-node's serialization and headers), against a
// fake API server on 127.0.0.1 that knows the resource lists of a 1.20 cluster and answers
// an apply with the object it got plus a uid.

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const RESOURCES: Record<string, { name: string; kind: string; namespaced: boolean }[]> = {
  '/api/v1': [
    { name: 'namespaces', kind: 'Namespace', namespaced: false },
    { name: 'secrets', kind: 'Secret', namespaced: true },
    { name: 'services', kind: 'Service', namespaced: true },
    { name: 'pods', kind: 'Pod', namespaced: true },
  ],
  '/apis/apps/v1': [
    { name: 'deployments', kind: 'Deployment', namespaced: true },
    { name: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  ],
  '/apis/networking.k8s.io/v1': [{ name: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true }],
  '/apis/policy/v1beta1': [{ name: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true }],
};

/** namespaces: what GET of a namespace answers, read by read (absent: 404). */
function fakeApiServer(seen: Seen[], namespaces: Record<string, string[]> = {}): Promise<Server> {
  const server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = raw ? JSON.parse(raw) : undefined;
      seen.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, contentType: String(req.headers['content-type'] ?? ''), body });
      const json = (code: number, value: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'GET' && url.pathname === '/apis')
        return json(200, {
          kind: 'APIGroupList',
          groups: [
            { name: 'policy', versions: [{ groupVersion: 'policy/v1beta1', version: 'v1beta1' }] },
            { name: 'discovery.k8s.io', versions: [{ groupVersion: 'discovery.k8s.io/v1beta1', version: 'v1beta1' }] },
          ],
        });
      if (req.method === 'GET' && RESOURCES[url.pathname])
        return json(200, { kind: 'APIResourceList', groupVersion: url.pathname.replace(/^\/apis?\//, ''), resources: RESOURCES[url.pathname] });
      const ns = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)$/)?.[1];
      const phase = req.method === 'GET' && ns ? namespaces[ns]?.shift() : undefined;
      if (phase) return json(200, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: ns, labels: { 'wharf/data-center': 'other' } }, status: { phase } });
      if (req.method === 'PATCH') return json(200, { ...body, metadata: { ...body.metadata, uid: `uid-${body.kind}` } });
      json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const workload = (): WorkloadSpec => ({
  template: {
    labels: { dataCenter: 'dc1', tenantId: 'acme', appId: 'acme.shop', componentId: 'acme.shop.api', versionId: 'v1', template: 'abc123' },
    names: { tenant: 'acme', app: 'shop', component: 'api' },
    image: 'reg.local:5000/acme/api:v1',
    env: [{ name: 'DB_PASSWORD', value: 's3cr3t-value', secret: true }],
    cpuMillis: 100,
    memoryMib: 32,
    ports: [{ port: 8080, protocol: 'http' }],
    volumes: [],
    aliases: ['api.shop'],
    stopGraceMs: 1000,
  },
  replicas: 2,
  stateful: false,
  maxSurge: 1,
  maxUnavailable: 0,
  paused: false,
  generation: 0,
  progressDeadlineMs: 60_000,
});

describe('KubernetesDriver on the wire (fake API server)', () => {
  let server: Server;
  const seen: Seen[] = [];
  let driver: KubernetesDriver;
  beforeAll(async () => {
    server = await fakeApiServer(seen);
    const kc = new (clientNode().KubeConfig)();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    driver = new KubernetesDriver({ dataCenter: 'dc1', kubeConfig: kc });
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('applies every object server-side under one field manager, children owned by the workload', async () => {
    await driver.applyWorkload(workload());
    const patches = seen.filter((s) => s.method === 'PATCH');
    expect(patches.map((p) => `${p.body.kind} ${p.path}`)).toEqual([
      'Namespace /api/v1/namespaces/wharf-acme',
      'NetworkPolicy /apis/networking.k8s.io/v1/namespaces/wharf-acme/networkpolicies/wharf-tenant-isolation',
      'Secret /api/v1/namespaces/wharf-acme/secrets/' + patches[2].body.metadata.name,
      'Deployment /apis/apps/v1/namespaces/wharf-acme/deployments/' + patches[3].body.metadata.name,
      'Secret /api/v1/namespaces/wharf-acme/secrets/' + patches[2].body.metadata.name,
      'Service /api/v1/namespaces/wharf-acme/services/' + patches[3].body.metadata.name,
      'PodDisruptionBudget /apis/policy/v1beta1/namespaces/wharf-acme/poddisruptionbudgets/' + patches[3].body.metadata.name,
    ]);
    for (const p of patches) {
      expect(p.contentType).toBe('application/apply-patch+yaml');
      expect(p.query.get('fieldManager')).toBe('wharf-app-manager');
      expect(p.query.get('force')).toBe('true');
    }
    // The model's `_from` went out as `from`.
    expect(patches[1].body.spec.ingress[0].from).toEqual([{ podSelector: {} }, { namespaceSelector: { matchLabels: { 'wharf/gateway': 'true' } } }]);
    expect(patches[1].body.spec.ingress[0]._from).toBeUndefined();
    // The Secret made before its owner existed gets the owner reference once the Deployment has a uid.
    expect(patches[2].body.metadata.ownerReferences).toBeUndefined();
    expect(patches[4].body.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Deployment', uid: 'uid-Deployment' })]);
    expect(patches[5].body.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Deployment', uid: 'uid-Deployment' })]);
    expect(JSON.stringify(patches[3].body)).not.toContain('s3cr3t-value');
    expect(patches[3].body.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });
});

describe('KubernetesDriver and a tenant namespace being deleted', () => {
  const servers: Server[] = [];
  afterAll(() => Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))));

  async function driverWith(namespaces: Record<string, string[]>, namespaceGoneTimeoutMs?: number): Promise<{ driver: KubernetesDriver; seen: Seen[] }> {
    const seen: Seen[] = [];
    const server = await fakeApiServer(seen, namespaces);
    servers.push(server);
    const kc = new (clientNode().KubeConfig)();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return { driver: new KubernetesDriver({ dataCenter: 'dc1', kubeConfig: kc, namespaceGoneTimeoutMs }), seen };
  }

  it('waits for it to be gone, then makes it again', async () => {
    const { driver, seen } = await driverWith({ 'wharf-acme': ['Terminating', 'Terminating', 'Terminating'] });
    await driver.applyWorkload(workload());
    const reads = seen.filter((s) => s.method === 'GET' && s.path === '/api/v1/namespaces/wharf-acme');
    expect(reads.length).toBe(4); // three times terminating (one wait between each), then gone
    expect(seen.find((s) => s.method === 'PATCH')?.body.kind).toBe('Namespace');
  });

  it('fails naming the namespace when it outlives the wait, and applies nothing', async () => {
    const { driver, seen } = await driverWith({ 'wharf-acme': Array(100).fill('Terminating') }, 600);
    await expect(driver.applyWorkload(workload())).rejects.toMatchObject({
      reason: 'start_failed',
      message: expect.stringContaining('namespace wharf-acme is still being deleted'),
    });
    expect(seen.filter((s) => s.method === 'PATCH')).toEqual([]);
  });
});
