import { DriverLogCollector, KubernetesDriver, LABEL, type ReplicaEvent, type ReplicaState, type RuntimeLogLine, type WorkloadSpec } from '@wharf/runtime';
import { randomBytes } from 'node:crypto';
import { buildTestImage, dockerClient, httpTestImage } from './docker';
import { startKubernetesCluster, type KubernetesCluster } from './kubernetes-cluster';
import { waitFor } from './ports';

// The KubernetesDriver against a real one-node Kubernetes 1.20 cluster: workloads applied by
// server-side apply, pods that answer HTTP from the host, scale, upgrade, a failed upgrade
// restored, reasons read from pods, and removal of everything it made.

const runId = randomBytes(3).toString('hex');
const IMAGES = { v1: `wharf-test/k8s-drv-${runId}:v1`, v2: `wharf-test/k8s-drv-${runId}:v2`, crash: `wharf-test/k8s-drv-${runId}:crash` };
const DC = `k8s${runId}`;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: (await res.text()).trim() };
}

function workload(over: Partial<WorkloadSpec> = {}, image = IMAGES.v1, versionId = 'v1', template = 'aaa111'): WorkloadSpec {
  return {
    template: {
      labels: { dataCenter: DC, tenantId: 'acme', appId: 'acme.shop', componentId: 'acme.shop.api', versionId, template },
      names: { tenant: 'acme', app: 'shop', component: 'api' },
      image,
      env: [
        { name: 'GREETING', value: 'hello', secret: false },
        { name: 'DB_PASSWORD', value: 's3cr3t-value', secret: true },
      ],
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
    readiness: { kind: 'http', path: '/', port: 8080, command: [], initialDelayMs: 0, periodMs: 1000, failureThreshold: 3 },
    liveness: { kind: 'tcp', path: '', port: 8080, command: [], initialDelayMs: 0, periodMs: 1000, failureThreshold: 6 },
    generation: 0,
    progressDeadlineMs: 60_000,
    ...over,
  };
}

/** The same workload as another component of the app (acme.shop.<component>), with no aliases. */
function asComponent(spec: WorkloadSpec, component: string): WorkloadSpec {
  const t = spec.template;
  return {
    ...spec,
    template: { ...t, labels: { ...t.labels, componentId: `acme.shop.${component}` }, names: { ...t.names, component }, aliases: [] },
  };
}

describe('KubernetesDriver on a real cluster', () => {
  let cluster: KubernetesCluster | undefined;
  let driver: KubernetesDriver;
  const events: ReplicaEvent[] = [];
  let stopWatch: (() => void) | undefined;

  beforeAll(async () => {
    const docker = dockerClient();
    await httpTestImage(docker, IMAGES.v1, 'v1');
    await httpTestImage(docker, IMAGES.v2, 'v2');
    await buildTestImage(docker, IMAGES.crash, { cmd: ['sh', '-c', 'echo starting; echo boom; exit 3'] });
    cluster = await startKubernetesCluster();
    for (const image of Object.values(IMAGES)) await cluster.importImage(image);
    // The test images are on the node (imported), named as Docker Hub's; the one registry nodes may
    // pull from is none of theirs, so no pull ever leaves the machine.
    driver = new KubernetesDriver({
      dataCenter: DC,
      kubeconfigPath: cluster.kubeconfigPath,
      gatewayCidrs: [`${cluster.nodes[0].ip}/32`],
      pullRegistries: ['127.0.0.1:32500'],
    });
    stopWatch = driver.watch((e) => events.push(e));
  }, 300_000);

  afterAll(async () => {
    stopWatch?.();
    await cluster?.stop();
    const docker = dockerClient();
    for (const image of Object.values(IMAGES))
      await docker
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined);
  }, 120_000);

  const ready = (versionId: string, n: number) =>
    waitFor(
      `${n} ready pod(s) of ${versionId}`,
      async () => {
        const list = (await driver.listReplicas({ componentId: 'acme.shop.api' })).filter((r) => r.phase !== 'removing');
        return list.length === n && list.every((r) => r.ready && r.labels.versionId === versionId) ? list : undefined;
      },
      90_000,
      250,
    );
  const answers = async (pods: ReplicaState[]) => Promise.all(pods.map((p) => httpGet(`http://${p.address}:8080/`)));

  it('picks the 1.20 API versions by discovery', async () => {
    expect(await driver.apis()).toEqual({ endpointSlice: 'discovery.k8s.io/v1beta1', podDisruptionBudget: 'policy/v1beta1' });
    await driver.ping();
  });

  it('deploys a workload whose pods answer HTTP from the host, with its objects applied by one field manager', async () => {
    const c = cluster!;
    await driver.applyWorkload(workload());
    const pods = await ready('v1', 2);
    expect(await answers(pods)).toEqual([
      { status: 200, body: 'v1' },
      { status: 200, body: 'v1' },
    ]);
    expect(pods[0]).toMatchObject({
      node: 'node-1',
      labels: { dataCenter: DC, tenantId: 'acme', componentId: 'acme.shop.api', versionId: 'v1', template: 'aaa111' },
    });
    const ns = driver.namespace('acme');
    const deployments = (await c.api<Json>('GET', `/apis/apps/v1/namespaces/${ns}/deployments`)).body.items as Json[];
    expect(deployments).toHaveLength(1);
    const d = deployments[0];
    expect(d.metadata.managedFields.map((f: Json) => [f.manager, f.operation])).toContainEqual(['wharf-app-manager', 'Apply']);
    // The test image is on the node, from no registry the data center pulls from: never pulled.
    expect(d.spec.template.spec.containers[0].imagePullPolicy).toBe('Never');
    // Children go with the workload.
    const svc = (await c.api<Json>('GET', `/api/v1/namespaces/${ns}/services/${d.metadata.name}`)).body;
    expect(svc.metadata.ownerReferences[0]).toMatchObject({ kind: 'Deployment', uid: d.metadata.uid });
    const secret = (await c.api<Json>('GET', `/api/v1/namespaces/${ns}/secrets/${d.metadata.name}-env`)).body;
    expect(secret.metadata.ownerReferences[0]).toMatchObject({ kind: 'Deployment', uid: d.metadata.uid });
    expect(JSON.stringify(d)).not.toContain('s3cr3t-value');
    const policy = (await c.api<Json>('GET', `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/wharf-tenant-isolation`)).body;
    expect(policy.spec.podSelector).toEqual({});
    // Through the Service's ClusterIP too (kube-proxy writes its rules a moment later).
    const viaService = await waitFor(
      `http://${svc.spec.clusterIP}:8080/`,
      () => httpGet(`http://${svc.spec.clusterIP}:8080/`).catch(() => undefined),
      20_000,
      200,
    );
    expect(viaService).toEqual({ status: 200, body: 'v1' });
    // exec (command probes) and the secret env from the Secret.
    const env = await driver.exec(pods[0].id, ['env'], { timeoutMs: 10_000 });
    expect(env.exitCode).toBe(0);
    expect(env.output).toContain('DB_PASSWORD=s3cr3t-value');
    expect((await driver.exec(pods[0].id, ['sh', '-c', 'exit 4'], { timeoutMs: 10_000 })).exitCode).toBe(4);
    // Logs (busybox httpd -v logs each request), and the watch told about the pods.
    const lines: string[] = [];
    for await (const l of driver.logs(pods[0].id, { tail: 50, follow: false })) lines.push(l.text);
    expect(lines.join('\n')).toMatch(/response:200/);
    expect(events.some((e) => e.id === pods[0].id && e.labels?.componentId === 'acme.shop.api')).toBe(true);
  });

  it('scales through the workload', async () => {
    await driver.applyWorkload(workload({ replicas: 3 }));
    expect(await ready('v1', 3)).toHaveLength(3);
  });

  it('upgrades by a rolling update, and a failed upgrade shows the reason and is restored', async () => {
    await driver.applyWorkload(workload({ replicas: 3 }, IMAGES.v2, 'v2', 'bbb222'));
    const pods = await ready('v2', 3);
    expect((await answers(pods)).map((a) => a.body)).toEqual(['v2', 'v2', 'v2']);

    await driver.applyWorkload(workload({ replicas: 3 }, IMAGES.crash, 'v3', 'ccc333'));
    const crashing = await waitFor(
      'a crash-looping pod of v3',
      async () => (await driver.listReplicas({ componentId: 'acme.shop.api', versionId: 'v3' })).find((r) => r.error?.startsWith('CrashLoopBackOff')),
      90_000,
      500,
    );
    expect(crashing.error).toMatch(/CrashLoopBackOff: exited with code 3.*last lines: starting \| boom/);
    // maxUnavailable 0: the old pods kept serving meanwhile.
    const serving = (await driver.listReplicas({ componentId: 'acme.shop.api', versionId: 'v2' })).filter((r) => r.ready);
    expect(serving).toHaveLength(3);
    // The reconciler's rollback: the previous release applied again.
    await driver.applyWorkload(workload({ replicas: 3 }, IMAGES.v2, 'v2', 'bbb222'));
    await ready('v2', 3);
  });

  it("says why a stateful replica cannot run: the scheduler's message", async () => {
    // The test cluster has no volume provisioner: the claim stays unbound.
    const db = workload({ stateful: true, replicas: 1, readiness: undefined, liveness: undefined });
    db.template = {
      ...db.template,
      labels: { ...db.template.labels, componentId: 'acme.shop.db' },
      names: { ...db.template.names, component: 'db' },
      env: [],
      volumes: [{ name: 'data', mountPath: '/data', sizeMib: 10 }],
    };
    await driver.applyWorkload(db);
    const pending = await waitFor(
      'the db pod to be unschedulable',
      async () => (await driver.listReplicas({ componentId: 'acme.shop.db' })).find((r) => r.error?.startsWith('Unschedulable')),
      60_000,
      500,
    );
    expect(pending).toMatchObject({ phase: 'creating', labels: { slot: 1 } });
    expect(pending.error).toMatch(/PersistentVolumeClaim/);
    await driver.removeWorkload({ tenantId: 'acme', componentId: 'acme.shop.db' });
    expect(await driver.removeVolumes({ componentId: 'acme.shop.db' })).toEqual(['data-' + pending.name]);
  });

  it("collects the runtime logs of all a component's pods, tagged, and follows new lines (event-log's collector)", async () => {
    const pods = await ready('v2', 3);
    const seen: RuntimeLogLine[] = [];
    const stop = new DriverLogCollector(driver, { settleMs: 300, rescanMs: 1000 }).follow('acme.shop.api', 5, (lines) => seen.push(...lines));
    try {
      // Each request is a new line in the answering pod's log (busybox httpd -v).
      await answers(pods);
      await waitFor(
        'a line of every pod',
        async () => (pods.every((p) => seen.some((l) => l.replica === p.name && /response:200/.test(l.text))) ? true : undefined),
        30_000,
        200,
      );
    } finally {
      stop();
    }
  });

  it('deploys a worker without ports: no Service (the API server refuses a portless one), ready by its pod, removed again', async () => {
    const c = cluster!;
    const ns = driver.namespace('acme');
    const base = asComponent(workload({ replicas: 1, readiness: undefined, liveness: undefined }), 'worker');
    const worker: WorkloadSpec = { ...base, template: { ...base.template, ports: [] } };
    await driver.applyWorkload(worker);
    const [pod] = await waitFor(
      'the worker ready',
      async () => {
        const list = (await driver.listReplicas({ componentId: 'acme.shop.worker' })).filter((r) => r.phase !== 'removing');
        return list.length === 1 && list[0].ready ? list : undefined;
      },
      90_000,
      250,
    );
    expect(pod.labels.componentId).toBe('acme.shop.worker');
    const services = (await c.api<Json>('GET', `/api/v1/namespaces/${ns}/services`)).body.items as Json[];
    expect(services.filter((svc) => svc.spec.selector?.[LABEL.componentId] === 'acme.shop.worker')).toEqual([]);
    await driver.removeWorkload({ tenantId: 'acme', componentId: 'acme.shop.worker' });
    await waitFor(
      'the worker gone',
      async () => ((await driver.listReplicas({ componentId: 'acme.shop.worker' })).length === 0 ? true : undefined),
      60_000,
      250,
    );
  });

  it('never pulls an image from a registry the data center does not pull from: absent from the node, it says so at once', async () => {
    const ghost = asComponent(workload({ replicas: 1 }, `ghcr.io/acme/never-pulled-${runId}:1`), 'ghost');
    await driver.applyWorkload(ghost);
    const failed = await waitFor(
      'the ghost replica failing',
      async () => (await driver.listReplicas({ componentId: 'acme.shop.ghost' })).find((r) => r.error),
      60_000,
      250,
    );
    expect(failed.error).toMatch(new RegExp(`^ErrImageNeverPull: image ghcr\\.io/acme/never-pulled-${runId}:1 cannot be pulled`));
    await driver.removeWorkload({ tenantId: 'acme', componentId: 'acme.shop.ghost' });
    await waitFor('the ghost gone', async () => ((await driver.listReplicas({ componentId: 'acme.shop.ghost' })).length === 0 ? true : undefined), 60_000, 250);
  });

  it('removes a workload with its objects, then the tenant namespace once nothing is left', async () => {
    const c = cluster!;
    const ns = driver.namespace('acme');
    expect(await driver.releaseTenant('acme')).toBe(false);
    const started = Date.now();
    await driver.removeWorkload({ tenantId: 'acme', componentId: 'acme.shop.api' });
    await waitFor('every pod gone', async () => ((await driver.listReplicas({ tenantId: 'acme' })).length === 0 ? true : undefined), 60_000, 250);
    process.stdout.write(`${JSON.stringify({ measure: 'k8s-remove-workload-pods-gone', ms: Date.now() - started })}\n`);
    expect(((await c.api<Json>('GET', `/apis/apps/v1/namespaces/${ns}/deployments`)).body.items as Json[]).length).toBe(0);
    expect(((await c.api<Json>('GET', `/api/v1/namespaces/${ns}/services`)).body.items as Json[]).length).toBe(0);
    expect(await driver.releaseTenant('acme')).toBe(true);
    const after = await c.api<Json>('GET', `/api/v1/namespaces/${ns}`);
    expect(after.status === 404 || after.body.status?.phase === 'Terminating').toBe(true);
    // A deploy of that tenant right away waits for the namespace to go, then makes it again.
    const redeploy = Date.now();
    await driver.applyWorkload(workload());
    process.stdout.write(`${JSON.stringify({ measure: 'k8s-namespace-gone-then-apply', ms: Date.now() - redeploy })}\n`);
    expect((await c.api<Json>('GET', `/api/v1/namespaces/${ns}`)).body.status?.phase).toBe('Active');
    await ready('v1', 2);
  });
});
