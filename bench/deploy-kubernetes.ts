// npm run bench -- deploy -- --runtime kubernetes (called by deploy.bench.ts)
// In one run, against a one-node Kubernetes 1.20 test cluster and a real data center (etcd, mq,
// event-log, api-gateway, app-manager with WHARF_RUNTIME=kubernetes, as processes):
//   wharf_ms    the API's deploy call (image already on the node) -> first HTTP 200 from the new pod
//   kubectl_ms  `kubectl apply` of an equivalent Deployment + Service (the same image, port, limits
//               and readiness probe as app-manager renders) -> first HTTP 200 from its pod
//   scale10_ms  the API's scale 0 -> 10 call -> 10 ready pods in the component's endpoints
//   kubectl_scale10_ms  `kubectl scale --replicas 10` of a Deployment at 0 -> its readyReplicas 10
// Both first-200 paths find the pod the same way (the pod list of its namespace by label, through
// the API, every 20 ms) and probe it the same way (GET / every 5 ms from the host); wharf_ms and
// kubectl_ms alternate over ROUNDS and the medians are compared. Everything is bounded in count
// and time; the cluster is this run's own. The JSON line is printed last.
import { createEtcdClient, KeyLayout } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { LABEL } from '@wharf/runtime';
import {
  dockerClient,
  httpTestImage,
  startApiGateway,
  startAppManager,
  startEtcd,
  startEventLog,
  startKubernetesCluster,
  startMq,
  type KubernetesCluster,
} from '@wharf/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchApi, benchComponents, get, log, median, until as untilWithin } from './deploy-common';

const ROUNDS = 5;
const CAP_MS = 120_000;

/** until() bounded by this bench's cap. */
function until<T>(what: string, probe: () => Promise<T | undefined>, everyMs = 5): Promise<T> {
  return untilWithin(what, probe, everyMs, CAP_MS);
}

type PodList = { items?: { metadata: { name: string }; status?: { podIP?: string } }[] };

/** The first pod IP of `selector` in `namespace`, then its first HTTP 200 on 8080: the same for both paths. */
async function firstAnswer(cluster: KubernetesCluster, namespace: string, selector: string): Promise<void> {
  const ip = await until(
    `a pod of ${selector} with an IP`,
    async () => {
      const res = await cluster.api<PodList>('GET', `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`);
      return res.body.items?.find((p) => p.status?.podIP)?.status?.podIP;
    },
    20,
  );
  await until(`${ip}:8080 answering`, async () => ((await get(ip, 8080)) === 200 ? true : undefined));
}

/** The Deployment and Service app-manager applies for the bench's component, written by hand (kubectl's side). */
function kubectlManifest(namespace: string, name: string, image: string, replicas: number): string {
  const labels = { app: name };
  const objects = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: 'main',
                image,
                imagePullPolicy: 'IfNotPresent',
                ports: [{ containerPort: 8080, protocol: 'TCP' }],
                resources: { limits: { cpu: '100m', memory: '32Mi' }, requests: { cpu: '25m', memory: '32Mi' } },
                readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 1 },
                securityContext: { allowPrivilegeEscalation: false },
              },
            ],
            terminationGracePeriodSeconds: 10,
            automountServiceAccountToken: false,
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace, labels },
      spec: { selector: labels, ports: [{ name: 'p8080', port: 8080, targetPort: 8080, protocol: 'TCP' }] },
    },
  ];
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
}

export async function kubernetesDeployBench(): Promise<void> {
  const runId = `bench${process.pid.toString(36)}`;
  const dataCenter = runId;
  const docker = dockerClient();
  const image = `wharf-test/${runId}-web:1`;
  await httpTestImage(docker, image, 'one');
  const cluster = await startKubernetesCluster();
  log(`cluster ready in ${cluster.timings.totalMs} ms`);
  const etcd = await startEtcd();
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-eventlog-'));
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    await cluster.importImage(image);
    const mq = await startMq(etcd);
    cleanups.push(() => mq.stop());
    const eventLog = await startEventLog(etcd, dir);
    cleanups.push(() => eventLog.stop());
    const gateway = await startApiGateway(etcd, mq.grpc, { WHARF_EVENTLOG_ADDR: eventLog.grpc });
    cleanups.push(() => gateway.stop());
    const am = await startAppManager(etcd, mq.grpc, eventLog.grpc, {
      WHARF_DATA_CENTER: dataCenter,
      WHARF_RUNTIME: 'kubernetes',
      WHARF_KUBECONFIG: cluster.kubeconfigPath,
    });
    cleanups.push(() => am.stop());
    const client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    cleanups.push(async () => client.close());
    const keys = new KeyLayout();
    const store = new EtcdEventStore({ client, keys });
    const token = gateway.adminToken!;
    const api = benchApi(gateway.url, token, CAP_MS);
    const { call, operate, finished } = api;
    const { readyEndpoints, component } = benchComponents({ api, client, keys, store, versions: [['v1', image]], capMs: CAP_MS });

    await call('POST', '/tenants', { name: 'bench' });
    await call('POST', '/tenants/bench/apps', { name: 'web' });
    const baselineNs = `${runId}-kubectl`;
    await cluster.kubectl(['create', 'namespace', baselineNs]);
    // The tenant's namespace (and its NetworkPolicy) is made by Wharf's first deploy; made here
    // first so no round pays for it (kubectl's side has its namespace already too). It stays up:
    // the namespace goes with the tenant's last component.
    const warm = await component('warm', 1);
    await finished(await operate(warm, { kind: 'deploy', version_id: 'v1' }));
    const tenantNs = (await cluster.api<PodList>('GET', `/api/v1/pods?labelSelector=${encodeURIComponent(`${LABEL.componentId}=${warm}`)}`)).body.items?.[0] as
      { metadata: { namespace?: string } } | undefined;
    const namespace = tenantNs?.metadata.namespace;
    if (!namespace) throw new Error('bench: no pod of the warm-up component');

    const wharf: number[] = [];
    const kubectl: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // kubectl apply + wait for the first 200, as a person would do it.
      const name = `k${round}`;
      let t0 = performance.now();
      await cluster.kubectl(['apply', '-f', '-'], kubectlManifest(baselineNs, name, image, 1));
      await firstAnswer(cluster, baselineNs, `app=${name}`);
      kubectl.push(performance.now() - t0);
      await cluster.kubectl(['delete', '-n', baselineNs, `deployment/${name}`, `service/${name}`, '--wait=false']);

      // The same through Wharf: the API's deploy call to the first 200 from the new pod.
      const id = await component(`r${round}`, 1);
      t0 = performance.now();
      const deploy = await operate(id, { kind: 'deploy', version_id: 'v1' });
      await firstAnswer(cluster, namespace, `${LABEL.componentId}=${id}`).catch(async (err: Error) => {
        const op = await call('GET', `/tenants/bench/operations/${deploy}`).catch((e: Error) => e.message);
        throw new Error(`${err.message}; the deploy: ${JSON.stringify(op)}; app-manager: ${am.process.output().slice(-3000)}`);
      });
      wharf.push(performance.now() - t0);
      log(`round ${round + 1}: kubectl apply ${Math.round(kubectl.at(-1)!)} ms, wharf ${Math.round(wharf.at(-1)!)} ms`);
      await finished(await operate(id, { kind: 'delete' }));
    }

    // Scale 0 -> 10 ready: through the API (ready = in the component's endpoints), then kubectl's own.
    const scaled = await component('scale', 0);
    await finished(await operate(scaled, { kind: 'deploy', version_id: 'v1' }));
    let t0 = performance.now();
    await operate(scaled, { kind: 'scale', replicas: 10 });
    await until('10 ready replicas', async () => ((await readyEndpoints(scaled)) >= 10 ? true : undefined), 20);
    const scale10 = performance.now() - t0;
    log(`scale 0 -> 10 ready: ${Math.round(scale10)} ms`);
    await finished(await operate(scaled, { kind: 'delete' }));

    await cluster.kubectl(['apply', '-f', '-'], kubectlManifest(baselineNs, 'scale', image, 0));
    t0 = performance.now();
    await cluster.kubectl(['scale', '-n', baselineNs, 'deployment/scale', '--replicas=10']);
    await until(
      'kubectl: 10 ready replicas',
      async () => {
        const d = await cluster.api<{ status?: { readyReplicas?: number } }>('GET', `/apis/apps/v1/namespaces/${baselineNs}/deployments/scale`);
        return (d.body.status?.readyReplicas ?? 0) >= 10 ? true : undefined;
      },
      20,
    );
    const kubectlScale10 = performance.now() - t0;
    log(`kubectl scale 0 -> 10 ready: ${Math.round(kubectlScale10)} ms`);

    const wharfMs = Math.round(median(wharf));
    const kubectlMs = Math.round(median(kubectl));
    const result = {
      bench: 'deploy',
      runtime: 'kubernetes',
      wharf_ms: wharfMs,
      kubectl_ms: kubectlMs,
      ratio: Math.round((wharfMs / kubectlMs) * 100) / 100,
      scale10_ms: Math.round(scale10),
      kubectl_scale10_ms: Math.round(kubectlScale10),
      rounds: ROUNDS,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await cluster.stop();
    await etcd.destroy();
    rmSync(dir, { recursive: true, force: true });
    await docker
      .getImage(image)
      .remove({ force: true })
      .catch(() => undefined);
  }
}
