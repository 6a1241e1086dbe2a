import type { V1Pod } from '@kubernetes/client-node';
import { LABEL } from '../labels';
import { ReplicaCreateError, type WorkloadSpec } from '../runtime-driver';
import { chooseApiVersions, groupsOf } from './kubernetes-discovery';
import {
  dependencyServices,
  ownedBy,
  parsePodId,
  podFinished,
  podTrouble,
  PULL_RETRY_GRACE_MS,
  quantityBytes,
  usageFromSummary,
  replicaFromPod,
  serviceHostOf,
  withHosts,
  workloadObjects,
  type KubernetesNaming,
} from './kubernetes-mapping';
import { servedPods, sliceFromObject } from './kubernetes-endpoint-slices';
import { namespaceName, workloadName } from './kubernetes-names';
import { updateKind } from './kubernetes-driver';

const naming: KubernetesNaming = { namePrefix: 'wharf', cpuRequestRatio: 0.25, gatewayCidrs: ['10.250.0.0/24'], pdbApiVersion: 'policy/v1' };

function spec(over: Partial<WorkloadSpec> = {}): WorkloadSpec {
  return {
    template: {
      labels: { dataCenter: 'dc1', tenantId: 'acme', appId: 'acme.shop', componentId: 'acme.shop.api', versionId: 'v2', template: 'abc123' },
      names: { tenant: 'acme', app: 'shop', component: 'api' },
      image: '127.0.0.1:32500/acme/api:v2',
      env: [
        { name: 'GREETING', value: 'hello', secret: false },
        { name: 'DB_PASSWORD', value: 's3cr3t-value', secret: true },
      ],
      cpuMillis: 200,
      memoryMib: 64,
      ports: [{ port: 8080, protocol: 'http' }],
      volumes: [],
      aliases: ['api.shop'],
      stopGraceMs: 5000,
    },
    replicas: 3,
    stateful: false,
    maxSurge: 1,
    maxUnavailable: 0,
    paused: false,
    readiness: { kind: 'http', path: '/healthz', port: 8080, command: [], initialDelayMs: 2000, periodMs: 5000, failureThreshold: 3 },
    liveness: { kind: 'http', path: '/healthz', port: 8080, command: [], initialDelayMs: 2000, periodMs: 5000, failureThreshold: 6 },
    generation: 4,
    progressDeadlineMs: 120_000,
    ...over,
  };
}

// Loosely typed views of the produced manifests, for assertions.
type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('kubernetes names', () => {
  it('gives a clean tenant id its readable namespace, and any other one a hash of the exact id', () => {
    expect(namespaceName('wharf', 'acme')).toBe('wharf-acme');
    const upper = namespaceName('wharf', 'Acme');
    expect(upper).toMatch(/^wharf-acme-[0-9a-f]{6}$/);
    expect(upper).not.toBe(namespaceName('wharf', 'acme'));
    expect(namespaceName('wharf', 'a.b_c')).toMatch(/^wharf-a-b-c-[0-9a-f]{6}$/);
    const long = namespaceName('wharf', 'x'.repeat(200));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('names a workload after app and component, with a hash so joined names never collide', () => {
    const a = workloadName({ app: 'a-b', component: 'c' }, 't.a-b.c');
    const b = workloadName({ app: 'a', component: 'b-c' }, 't.a.b-c');
    expect(a).toMatch(/^a-b-c-[0-9a-f]{6}$/);
    expect(a).not.toBe(b);
    expect(workloadName({ app: '1app', component: 'api' }, 'x')).toMatch(/^x-1app-api-/); // a Service name starts with a letter
    expect(workloadName({ app: 'a'.repeat(63), component: 'b'.repeat(63) }, 'id').length).toBeLessThanOrEqual(52);
  });
});

describe('workloadObjects', () => {
  it('makes a Deployment with the rolling strategy, limits, probes, pull policy and every label', () => {
    const o = workloadObjects(spec(), naming);
    const d = o.workload as Any;
    expect(d.kind).toBe('Deployment');
    expect(d.metadata.namespace).toBe('wharf-acme');
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(d.spec.paused).toBe(false);
    expect(d.spec.progressDeadlineSeconds).toBe(120);
    // The selector never holds the version or template: it must stay the same across rollouts.
    expect(d.spec.selector.matchLabels).toEqual({ [LABEL.dataCenter]: 'dc1', [LABEL.componentId]: 'acme.shop.api' });
    const labels = d.spec.template.metadata.labels;
    expect(labels).toMatchObject({
      [LABEL.dataCenter]: 'dc1',
      [LABEL.tenantId]: 'acme',
      [LABEL.appId]: 'acme.shop',
      [LABEL.componentId]: 'acme.shop.api',
      [LABEL.versionId]: 'v2',
      [LABEL.template]: 'abc123',
      'app.kubernetes.io/name': 'api',
      'app.kubernetes.io/instance': d.metadata.name,
      'app.kubernetes.io/component': 'stateless',
      'app.kubernetes.io/part-of': 'shop',
      'app.kubernetes.io/managed-by': 'wharf',
    });
    expect(d.spec.template.metadata.annotations['wharf/restart-generation']).toBe('4');
    const c = d.spec.template.spec.containers[0];
    expect(c.image).toBe('127.0.0.1:32500/acme/api:v2');
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.resources).toEqual({ limits: { cpu: '200m', memory: '64Mi' }, requests: { cpu: '50m', memory: '64Mi' } });
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 8080 }, initialDelaySeconds: 2, periodSeconds: 5, failureThreshold: 3 });
    expect(c.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 8080 }, failureThreshold: 6 });
    expect(c.ports).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBe(5);
  });

  it('keeps secret values only in the Secret; the pod spec names the key', () => {
    const o = workloadObjects(spec(), naming);
    const env = (o.workload as Any).spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: 'GREETING', value: 'hello' });
    expect(env).toContainEqual({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: o.envSecret!.metadata!.name, key: 'DB_PASSWORD' } } });
    expect(JSON.stringify(o.workload)).not.toContain('s3cr3t-value');
    expect(JSON.stringify(o.service!)).not.toContain('s3cr3t-value');
    expect(o.envSecret!.stringData).toEqual({ DB_PASSWORD: 's3cr3t-value' });
    expect(workloadObjects(spec({ template: { ...spec().template, env: [] } }), naming).envSecret).toBeUndefined();
  });

  it('maps tcp and exec probes, and none at all (ready once running)', () => {
    const tcp = workloadObjects(
      spec({ readiness: { kind: 'tcp', path: '', port: 8080, command: [], initialDelayMs: 0, periodMs: 1000, failureThreshold: 1 } }),
      naming,
    );
    expect((tcp.workload as Any).spec.template.spec.containers[0].readinessProbe).toMatchObject({ tcpSocket: { port: 8080 }, periodSeconds: 1 });
    const exec = workloadObjects(
      spec({ liveness: { kind: 'exec', path: '', port: 0, command: ['cat', '/ok'], initialDelayMs: 0, periodMs: 1000, failureThreshold: 2 } }),
      naming,
    );
    expect((exec.workload as Any).spec.template.spec.containers[0].livenessProbe).toMatchObject({ exec: { command: ['cat', '/ok'] } });
    const none = workloadObjects(spec({ readiness: undefined, liveness: undefined }), naming);
    expect((none.workload as Any).spec.template.spec.containers[0].readinessProbe).toBeUndefined();
  });

  it('pauses a Deployment with `paused`, and surges by one when both surge and unavailability are 0', () => {
    const d = workloadObjects(spec({ paused: true, maxSurge: 0, maxUnavailable: 0 }), naming).workload as Any;
    expect(d.spec.paused).toBe(true);
    expect(d.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  it('makes a StatefulSet with a claim per volume and a headless Service for a component with volumes', () => {
    const s = spec({
      stateful: true,
      paused: true,
      template: { ...spec().template, volumes: [{ name: 'data', mountPath: '/data', sizeMib: 100 }] },
    });
    const o = workloadObjects(s, { ...naming, storageClass: 'local' });
    const st = o.workload as Any;
    expect(st.kind).toBe('StatefulSet');
    expect(st.spec.serviceName).toBe(st.metadata.name);
    expect(st.spec.volumeClaimTemplates).toEqual([
      expect.objectContaining({
        metadata: expect.objectContaining({ name: 'data', labels: expect.objectContaining({ [LABEL.volume]: 'data', [LABEL.componentId]: 'acme.shop.api' }) }),
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '100Mi' } }, storageClassName: 'local' },
      }),
    ]);
    expect(st.spec.template.spec.containers[0].volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    // No `paused` on a StatefulSet: a partition as high as the replicas holds every pod.
    expect(st.spec.updateStrategy.rollingUpdate.partition).toBe(3);
    expect(o.service!.spec!.clusterIP).toBe('None');
  });

  it('makes a Service of the component ports selecting the component, and a budget only with several replicas', () => {
    const o = workloadObjects(spec(), naming);
    expect(o.service!.spec!.selector).toEqual({ [LABEL.dataCenter]: 'dc1', [LABEL.componentId]: 'acme.shop.api' });
    expect(o.service!.spec!.ports).toEqual([{ name: 'p8080', port: 8080, targetPort: 8080, protocol: 'TCP' }]);
    expect(o.service!.spec!.clusterIP).toBeUndefined();
    expect(o.budget).toMatchObject({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', spec: { maxUnavailable: 1 } });
    expect(workloadObjects(spec({ replicas: 1 }), naming).budget).toBeUndefined();
    expect(workloadObjects(spec(), { ...naming, pdbApiVersion: 'policy/v1beta1' }).budget!.apiVersion).toBe('policy/v1beta1');
    expect(workloadObjects(spec(), { ...naming, pdbApiVersion: undefined }).budget).toBeUndefined();
  });

  it('makes no Service for a stateless component without ports (the API server refuses a portless one), a headless one for a stateful one', () => {
    const worker = { ...spec().template, ports: [] };
    const o = workloadObjects(spec({ template: worker, readiness: undefined, liveness: undefined }), naming);
    expect(o.service).toBeUndefined();
    expect((o.workload as Any).spec.template.spec.containers[0].ports).toEqual([]);
    const stateful = workloadObjects(
      spec({
        stateful: true,
        template: { ...worker, volumes: [{ name: 'data', mountPath: '/data', sizeMib: 10 }] },
        readiness: undefined,
        liveness: undefined,
      }),
      naming,
    );
    expect(stateful.service!.spec).toMatchObject({ clusterIP: 'None', ports: [] });
  });

  it('isolates the tenant namespace: same-namespace pods and the gateway only', () => {
    const o = workloadObjects(spec(), naming);
    expect(o.namespace.metadata!.labels).toMatchObject({ [LABEL.dataCenter]: 'dc1', [LABEL.tenantId]: 'acme' });
    const p = o.networkPolicy;
    expect(p.metadata!.namespace).toBe('wharf-acme');
    expect(p.spec!.podSelector).toEqual({});
    expect(p.spec!.policyTypes).toEqual(['Ingress']);
    expect(p.spec!.ingress![0]._from).toEqual([
      { podSelector: {} },
      { namespaceSelector: { matchLabels: { 'wharf/gateway': 'true' } } },
      { ipBlock: { cidr: '10.250.0.0/24' } },
    ]);
  });

  it('adds an image pull secret when the registry has credentials', () => {
    const o = workloadObjects(spec(), { ...naming, pullSecret: { name: 'wharf-registry', registry: '127.0.0.1:32500', username: 'u', password: 'p' } });
    expect(o.pullSecret!.type).toBe('kubernetes.io/dockerconfigjson');
    expect(JSON.parse(o.pullSecret!.stringData!['.dockerconfigjson'])).toEqual({
      auths: { '127.0.0.1:32500': { username: 'u', password: 'p', auth: Buffer.from('u:p').toString('base64') } },
    });
    expect((o.workload as Any).spec.template.spec.imagePullSecrets).toEqual([{ name: 'wharf-registry' }]);
    expect(workloadObjects(spec(), naming).pullSecret).toBeUndefined();
  });

  it('lets nodes pull only from the data center registries: any other image must be on the node (imagePullPolicy Never)', () => {
    const policy = (image: string, pullRegistries?: string[]) =>
      (workloadObjects(spec({ template: { ...spec().template, image } }), { ...naming, pullRegistries }).workload as Any).spec.template.spec.containers[0]
        .imagePullPolicy as string;
    expect(policy('127.0.0.1:32500/acme/api:v2', ['127.0.0.1:32500'])).toBe('IfNotPresent');
    for (const image of ['nginx:1.25', 'library/redis:7', 'ghcr.io/acme/api:v2', '127.0.0.1:5000/acme/api:v2'])
      expect(policy(image, ['127.0.0.1:32500'])).toBe('Never');
    // No list given: any registry, as before.
    expect(policy('ghcr.io/acme/api:v2')).toBe('IfNotPresent');
  });

  it('refuses input that could reach the cluster as something else, naming the field', () => {
    const bad: [Partial<WorkloadSpec>, RegExp][] = [
      [{ template: { ...spec().template, image: '--privileged' } }, /image/],
      [{ template: { ...spec().template, labels: { ...spec().template.labels, componentId: 'x'.repeat(64) } } }, /labels.componentId/],
      [{ replicas: -1 }, /replicas/],
      [{ readiness: { kind: 'http', path: 'no slash', port: 8080, command: [], initialDelayMs: 0, periodMs: 1000, failureThreshold: 1 } }, /readiness/],
      [{ liveness: { kind: 'exec', path: '', port: 0, command: [], initialDelayMs: 0, periodMs: 1000, failureThreshold: 1 } }, /liveness/],
      [{ template: { ...spec().template, volumes: [{ name: 'data', mountPath: '/data', sizeMib: 1 }] } }, /stateful/],
      [{ placement: { 'bad key': 'x' } }, /placement: "bad key" is not a label name/],
      [{ placement: { 'Wharf.io/zone': 'x' } }, /placement/],
      [{ placement: { zone: '-a' } }, /placement: "zone"="-a"/],
      [{ placement: { zone: 'x'.repeat(64) } }, /placement/],
    ];
    for (const [over, field] of bad) {
      const err = (() => {
        try {
          workloadObjects(spec(over), naming);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(ReplicaCreateError);
      expect((err as ReplicaCreateError).reason).toBe('invalid_spec');
      expect((err as Error).message).toMatch(field);
      expect((err as Error).message).not.toContain('s3cr3t-value');
    }
  });

  it("turns the placement into the pods' nodeSelector, and none into no selector", () => {
    const placed = workloadObjects(spec({ placement: { 'disk-type': 'ssd', 'kubernetes.io/hostname': 'node-2' } }), naming).workload as Any;
    expect(placed.spec.template.spec.nodeSelector).toEqual({ 'disk-type': 'ssd', 'kubernetes.io/hostname': 'node-2' });
    expect((workloadObjects(spec(), naming).workload as Any).spec.template.spec.nodeSelector).toBeUndefined();
    expect((workloadObjects(spec({ placement: {} }), naming).workload as Any).spec.template.spec.nodeSelector).toBeUndefined();
  });

  it('spreads replicas over nodes softly, by the component selector, with the same pod template at any replica count', () => {
    const w = workloadObjects(spec({ replicas: 3 }), naming).workload as Any;
    expect(w.spec.template.spec.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: { [LABEL.dataCenter]: 'dc1', [LABEL.componentId]: 'acme.shop.api' } },
      },
    ]);
    // A scale changes the replica count only: the template (and so the pods) stays as it was.
    expect((workloadObjects(spec({ replicas: 1 }), naming).workload as Any).spec.template).toEqual(w.spec.template);
    // A stateful component spreads the same way.
    const sts = workloadObjects(
      spec({ stateful: true, replicas: 2, template: { ...spec().template, volumes: [{ name: 'data', mountPath: '/d', sizeMib: 1 }] } }),
      naming,
    ).workload as Any;
    expect(sts.kind).toBe('StatefulSet');
    expect(sts.spec.template.spec.topologySpreadConstraints[0].topologyKey).toBe('kubernetes.io/hostname');
  });

  it('sets the owner reference that takes a child with its workload', () => {
    const o = workloadObjects(spec(), naming);
    const owned = ownedBy(o.service!, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop-api-x', uid: 'u-1' });
    expect(owned.metadata!.ownerReferences).toEqual([
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop-api-x', uid: 'u-1', controller: false, blockOwnerDeletion: true },
    ]);
    expect(owned.metadata!.labels).toEqual(o.service!.metadata!.labels);
  });
});

describe('dependency hosts', () => {
  const hostOf = { componentId: 'acme.shop.db', app: 'shop', component: 'db' };
  const withDep = () =>
    spec({
      template: {
        ...spec().template,
        env: [
          { name: 'DB_HOST', value: 'db.shop', secret: false, hostOf },
          { name: 'DB_PORT', value: '5432', secret: false },
        ],
      },
    });

  it("point at the dependency's Service: its DNS name with cluster DNS, its ClusterIP without", () => {
    const services = dependencyServices(withDep());
    expect(services).toEqual(new Map([['DB_HOST', workloadName({ app: 'shop', component: 'db' }, 'acme.shop.db')]]));
    const svc = { metadata: { name: 'shop-db-abc123', namespace: 'wharf-acme' }, spec: { clusterIP: '10.96.0.17' } };
    expect(serviceHostOf(svc, 'cluster.local')).toBe('shop-db-abc123.wharf-acme.svc.cluster.local');
    expect(serviceHostOf(svc, undefined)).toBe('10.96.0.17');
    expect(serviceHostOf({ ...svc, spec: { clusterIP: 'None' } }, undefined)).toBeUndefined();
    expect(serviceHostOf(undefined, undefined)).toBeUndefined();
    const resolved = workloadObjects(withHosts(withDep(), new Map([['DB_HOST', '10.96.0.17']])), naming);
    expect((resolved.workload as Any).spec.template.spec.containers[0].env).toEqual([
      { name: 'DB_HOST', value: '10.96.0.17' },
      { name: 'DB_PORT', value: '5432' },
    ]);
  });
});

describe('API discovery', () => {
  const cluster120 = groupsOf({
    groups: [
      { name: 'apps', versions: [{ groupVersion: 'apps/v1' }] },
      { name: 'discovery.k8s.io', versions: [{ groupVersion: 'discovery.k8s.io/v1beta1' }] },
      { name: 'policy', versions: [{ groupVersion: 'policy/v1beta1' }] },
    ],
  });
  const current = groupsOf({
    groups: [
      { name: 'discovery.k8s.io', versions: [{ groupVersion: 'discovery.k8s.io/v1' }] },
      { name: 'policy', versions: [{ groupVersion: 'policy/v1' }] },
    ],
  });
  const between = groupsOf({
    groups: [
      { name: 'discovery.k8s.io', versions: [{ groupVersion: 'discovery.k8s.io/v1beta1' }, { groupVersion: 'discovery.k8s.io/v1' }] },
      { name: 'policy', versions: [{ groupVersion: 'policy/v1beta1' }, { groupVersion: 'policy/v1' }] },
    ],
  });

  it('uses EndpointSlice discovery.k8s.io/v1beta1 on 1.20 and v1 where the cluster serves it', () => {
    expect(chooseApiVersions(cluster120).endpointSlice).toBe('discovery.k8s.io/v1beta1');
    expect(chooseApiVersions(current).endpointSlice).toBe('discovery.k8s.io/v1');
    expect(chooseApiVersions(between).endpointSlice).toBe('discovery.k8s.io/v1');
    expect(chooseApiVersions([]).endpointSlice).toBeUndefined();
  });

  it('uses PodDisruptionBudget policy/v1beta1 on 1.20 and policy/v1 where the cluster serves it', () => {
    expect(chooseApiVersions(cluster120).podDisruptionBudget).toBe('policy/v1beta1');
    expect(chooseApiVersions(current).podDisruptionBudget).toBe('policy/v1');
    expect(chooseApiVersions(between).podDisruptionBudget).toBe('policy/v1');
    expect(chooseApiVersions([]).podDisruptionBudget).toBeUndefined();
  });
});

describe('pods as replicas', () => {
  const labels = {
    [LABEL.dataCenter]: 'dc1',
    [LABEL.tenantId]: 'acme',
    [LABEL.appId]: 'acme.shop',
    [LABEL.componentId]: 'acme.shop.api',
    [LABEL.versionId]: 'v2',
    [LABEL.template]: 'abc123',
  };
  const pod = (status: V1Pod['status'], over: Partial<V1Pod['metadata']> = {}): V1Pod => ({
    metadata: { name: 'shop-api-x-5d9c-abcde', namespace: 'wharf-acme', uid: 'u1', labels, ...over },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'reg/api:v2', ports: [{ containerPort: 8080 }] }] },
    status,
  });

  it("takes readiness from its Service's EndpointSlices where the cluster has them, its version still from its labels", () => {
    const running = pod(
      {
        phase: 'Running',
        podIP: '10.244.1.7',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'app', image: 'reg/api:v2', imageID: '', ready: true, restartCount: 0, state: { running: {} } }],
      },
      { labels: { ...labels, 'app.kubernetes.io/instance': 'shop-api-x' } },
    );
    const slice = (ready: boolean) =>
      sliceFromObject({
        metadata: { name: 'shop-api-x-abcde', namespace: 'wharf-acme', labels: { 'kubernetes.io/service-name': 'shop-api-x' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.244.1.7'], conditions: { ready }, targetRef: { kind: 'Pod', name: 'shop-api-x-5d9c-abcde', namespace: 'wharf-acme' } }],
      })!;
    expect(replicaFromPod(running, 'dc1', undefined, servedPods([slice(true)]))).toMatchObject({
      ready: true,
      address: '10.244.1.7',
      labels: { versionId: 'v2' },
    });
    // Ready by its own condition, but its Service does not route to it: not ready.
    expect(replicaFromPod(running, 'dc1', undefined, servedPods([slice(false)]))).toMatchObject({ ready: false, phase: 'running' });
    expect(replicaFromPod(running, 'dc1', undefined, servedPods([]))).toMatchObject({ ready: false });
    // No EndpointSlice API: its own condition.
    expect(replicaFromPod(running, 'dc1')).toMatchObject({ ready: true });
  });

  it('reads a running ready pod: id, labels, address, node', () => {
    const r = replicaFromPod(
      pod({
        phase: 'Running',
        podIP: '10.244.1.7',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'app', image: 'reg/api:v2', imageID: '', ready: true, restartCount: 2, state: { running: { startedAt: new Date(1000) } } }],
      }),
      'dc1',
    )!;
    expect(r).toMatchObject({
      id: 'wharf-acme/shop-api-x-5d9c-abcde',
      phase: 'running',
      ready: true,
      address: '10.244.1.7',
      node: 'node-1',
      startedAtMs: 1000,
    });
    expect(r.labels).toEqual({
      dataCenter: 'dc1',
      tenantId: 'acme',
      appId: 'acme.shop',
      componentId: 'acme.shop.api',
      versionId: 'v2',
      template: 'abc123',
      slot: 0,
      restarts: 2,
    });
    expect(r.error).toBeUndefined();
    expect(parsePodId(r.id)).toEqual({ namespace: 'wharf-acme', name: 'shop-api-x-5d9c-abcde' });
  });

  it("never reads another data center's pod", () => {
    expect(replicaFromPod(pod({ phase: 'Running' }, { labels: { ...labels, [LABEL.dataCenter]: 'dc2' } }), 'dc1')).toBeUndefined();
  });

  it('gives a StatefulSet pod its stable slot (ordinal + 1)', () => {
    const r = replicaFromPod(
      pod(
        { phase: 'Running' },
        { name: 'shop-db-x-2', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'shop-db-x', uid: 's', controller: true }] },
      ),
      'dc1',
    )!;
    expect(r.labels.slot).toBe(3);
  });

  it('says CrashLoopBackOff with the exit code and the last lines', () => {
    const p = pod({
      phase: 'Running',
      containerStatuses: [
        {
          name: 'app',
          image: 'reg/api:v2',
          imageID: '',
          ready: false,
          restartCount: 3,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
          lastState: { terminated: { exitCode: 3, reason: 'Error' } },
        },
      ],
    });
    expect(podTrouble(p)!.wantsLogs).toBe(true);
    const r = replicaFromPod(p, 'dc1', 'starting\nboom')!;
    expect(r.ready).toBe(false);
    expect(r.exitCode).toBe(3);
    expect(r.error).toBe('CrashLoopBackOff: exited with code 3, restarted 3 time(s); last lines: starting | boom');
    expect(updateKind(p)).toBe('died');
  });

  it('says OOMKilled', () => {
    const p = pod({
      phase: 'Running',
      containerStatuses: [
        {
          name: 'app',
          image: 'reg/api:v2',
          imageID: '',
          ready: false,
          restartCount: 1,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
        },
      ],
    });
    const r = replicaFromPod(p, 'dc1')!;
    expect(r.oomKilled).toBe(true);
    expect(r.error).toMatch(/^CrashLoopBackOff: OOMKilled/);
    expect(updateKind(p)).toBe('oom');
  });

  it('says ImagePullBackOff and ErrImageNeverPull with the image', () => {
    for (const reason of ['ImagePullBackOff', 'ErrImageNeverPull']) {
      const r = replicaFromPod(
        pod({
          phase: 'Pending',
          containerStatuses: [
            { name: 'app', image: 'reg/api:v2', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message: 'not found' } } },
          ],
        }),
        'dc1',
      )!;
      expect(r.phase).toBe('creating');
      expect(r.error).toBe(`${reason}: image reg/api:v2 cannot be pulled: not found`);
    }
  });

  it('lets a pull the kubelet will retry pass for PULL_RETRY_GRACE_MS from the start, unless the registry says the image is absent', () => {
    const started = Date.parse('2026-12-02T10:00:00Z');
    const pulling = (reason: string, message: string) =>
      pod({
        phase: 'Pending',
        startTime: new Date(started),
        containerStatuses: [{ name: 'app', image: 'reg/api:v2', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } }],
      });
    const unauthorized = 'pulling from host reg failed with status code [manifests v2]: 401 Unauthorized';
    for (const reason of ['ErrImagePull', 'ImagePullBackOff']) {
      const p = pulling(reason, unauthorized);
      // Within the grace: no trouble, the replica is still being created.
      expect(podTrouble(p, started + PULL_RETRY_GRACE_MS - 1)).toBeUndefined();
      expect(replicaFromPod(p, 'dc1', undefined, undefined, started + 5000)).toMatchObject({ phase: 'creating', ready: false });
      expect(replicaFromPod(p, 'dc1', undefined, undefined, started + 5000)!.error).toBeUndefined();
      // Past it: the failure stands, in the cluster's words.
      expect(replicaFromPod(p, 'dc1', undefined, undefined, started + PULL_RETRY_GRACE_MS)!.error).toBe(
        `${reason}: image reg/api:v2 cannot be pulled: ${unauthorized}`,
      );
    }
    // Absent from the registry (containerd's and the registry's words): failed at once.
    for (const message of ['rpc error: code = NotFound desc = failed to pull and unpack image "reg/api:v2"', 'manifest unknown'])
      expect(podTrouble(pulling('ErrImagePull', message), started + 1000)?.reason).toContain(message);
    // An invalid name is never retried.
    expect(podTrouble(pulling('InvalidImageName', 'bad'), started + 1000)?.reason).toMatch(/^InvalidImageName/);
  });

  it("says Unschedulable with the scheduler's message", () => {
    const r = replicaFromPod(
      pod({
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }],
      }),
      'dc1',
    )!;
    expect(r.error).toBe('Unschedulable: 0/1 nodes are available: 1 Insufficient cpu.');
  });

  it('shows a pod being deleted as removing, a pending one as creating', () => {
    expect(replicaFromPod(pod({ phase: 'Running' }, { deletionTimestamp: new Date() }), 'dc1')!.phase).toBe('removing');
    expect(replicaFromPod(pod({ phase: 'Pending' }), 'dc1')!.phase).toBe('creating');
    expect(replicaFromPod(pod({ phase: 'Failed', reason: 'Evicted', message: 'low memory' }), 'dc1')!).toMatchObject({
      phase: 'exited',
      error: 'Evicted: low memory',
    });
  });

  it('counts a pod being deleted as finished once its container no longer runs', () => {
    const running = { name: 'app', image: 'i', imageID: '', ready: false, restartCount: 0, state: { running: { startedAt: new Date(1000) } } };
    const ended = { ...running, state: { terminated: { exitCode: 137, finishedAt: new Date(2000) } } };
    expect(podFinished(pod({ phase: 'Running', containerStatuses: [running] }, { deletionTimestamp: new Date() }))).toBe(false);
    expect(podFinished(pod({ phase: 'Running', containerStatuses: [ended] }, { deletionTimestamp: new Date() }))).toBe(true);
    expect(podFinished(pod({ phase: 'Pending' }, { deletionTimestamp: new Date() }))).toBe(true);
    expect(podFinished(pod({ phase: 'Running', containerStatuses: [ended] }))).toBe(false); // not being deleted: a crash, healed by the kubelet
  });

  it("reads a running pod's cpu and memory from its node's kubelet summary", () => {
    const running = { name: 'app', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: new Date(1000) } } };
    const p: V1Pod = {
      ...pod({ phase: 'Running', containerStatuses: [running] }),
      spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'i', resources: { limits: { memory: '64Mi', cpu: '200m' } } }] },
    };
    const summary = {
      node: { nodeName: 'node-1' },
      pods: [
        { podRef: { name: 'other', namespace: 'wharf-acme' }, containers: [{ name: 'app', cpu: { usageNanoCores: 9e9 }, memory: { workingSetBytes: 9 } }] },
        {
          podRef: { name: 'shop-api-x-5d9c-abcde', namespace: 'wharf-acme' },
          containers: [{ name: 'app', cpu: { usageNanoCores: 12_400_000 }, memory: { workingSetBytes: 1_234_567 } }],
        },
      ],
    };
    expect(usageFromSummary(summary, p)).toEqual({ cpuMillis: 12, memoryBytes: 1_234_567, memoryLimitBytes: 64 * 2 ** 20 });
    // Not running, not in the summary (yet), or no summary at all: no reading.
    expect(usageFromSummary(summary, pod({ phase: 'Pending' }))).toBeUndefined();
    expect(usageFromSummary({ pods: [] }, p)).toBeUndefined();
    expect(usageFromSummary(undefined, p)).toBeUndefined();
    expect([quantityBytes('64Mi'), quantityBytes('1Gi'), quantityBytes('500M'), quantityBytes('1024'), quantityBytes(undefined), quantityBytes('1e3')]).toEqual(
      [64 * 2 ** 20, 2 ** 30, 5e8, 1024, 0, 0],
    );
  });

  it('refuses replica ids that are not namespace/pod', () => {
    expect(parsePodId('../etc')).toBeUndefined();
    expect(parsePodId('a/b/c')).toBeUndefined();
    expect(parsePodId('UPPER/x')).toBeUndefined();
  });
});
