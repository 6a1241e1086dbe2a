import { dockerClient, httpTestImage, startKubernetesCluster, waitFor, type KubernetesCluster } from '@wharf/testing';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRunOverlay, type RunOverlay } from './run-overlay';

// Wharf itself on Kubernetes: the images built locally (deploy/images/build.sh), imported into a
// real one-node 1.20 cluster, the manifests of deploy/ applied (overlay test + this run's Service
// IPs), every workload ready, then a smoke story through the API running in the cluster: an image
// component is built (pulled from and pushed to the in-cluster registry by the in-cluster builder)
// and deployed by the in-cluster app-manager onto the same cluster.
jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..');
const NS = 'wharf';
const docker = dockerClient();
const smokeImage = `wharf-test/deploy-smoke-${process.pid}:1`;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let cluster: KubernetesCluster | undefined;
let overlay: RunOverlay;
let proxy: Relay | undefined;
let work = '';
let api = '';
let token = '';
let registryAuth = { username: '', password: '', serveraddress: '' };
const timings: Record<string, number> = {};

function sh(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { cwd: ROOT, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20, env: opts.env ?? process.env },
      (err, out, errOut) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${errOut.trim() || err.message}`)) : resolve(out)),
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t = Date.now();
  try {
    return await fn();
  } finally {
    timings[name] = Date.now() - t;
  }
}

/**
 * The registry's NodePort is also a port on the host's 127.0.0.1, relayed to its ClusterIP: the
 * host's Docker Engine (the builder's, through its socket) and the node's containerd then reach the
 * registry at one address, 127.0.0.1:PORT, that both accept over plain HTTP (loopback).
 */
interface Relay {
  readonly port: number;
  /** Where connections go from now on (known only once the port is in the manifests). */
  target: { host: string; port: number } | undefined;
  close(): Promise<void>;
}

async function relayInNodePortRange(): Promise<Relay> {
  const sockets = new Set<Socket>();
  for (let attempt = 0; attempt < 40; attempt++) {
    const port = 30600 + Math.floor(Math.random() * 2100);
    const server: Server = createServer((client) => {
      if (!relay.target) return client.destroy();
      const upstream = connect(relay.target.port, relay.target.host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    const relay: Relay = {
      port,
      target: undefined,
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
    if (ok) return relay;
  }
  throw new Error('no free port in 30600-32699 on 127.0.0.1 for the registry relay');
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

/**
 * Every test cluster's containers share containerd's one cgroup `k8s.io` (the harness's kubelets run
 * without per-QoS cgroups), which cgroup v1 weighs like a single process of the host's root cgroup:
 * on a machine busy with other work, a dozen Node processes starting in pods got ~1 % of a core and
 * never answered their probes. While this file runs it weighs like 8 processes; afterAll puts the
 * weight back. (cgroup v2 or no such cgroup yet: left alone.)
 */
const PODS_CPU_SHARES = '/sys/fs/cgroup/cpu/k8s.io/cpu.shares';
let sharesBefore: string | undefined;
function weighPods(): void {
  if (sharesBefore !== undefined || !existsSync(PODS_CPU_SHARES)) return;
  sharesBefore = readFileSync(PODS_CPU_SHARES, 'utf8').trim();
  if (Number(sharesBefore) < 8192) writeFileSync(PODS_CPU_SHARES, '8192');
}
function unweighPods(): void {
  if (sharesBefore !== undefined && readFileSync(PODS_CPU_SHARES, 'utf8').trim() === '8192') writeFileSync(PODS_CPU_SHARES, sharesBefore);
}

const WORKLOAD_PATHS = [
  `/apis/apps/v1/namespaces/${NS}/deployments`,
  `/apis/apps/v1/namespaces/${NS}/statefulsets`,
  `/apis/apps/v1/namespaces/${NS}/daemonsets`,
];

/** name -> [ready, desired] of every workload of the namespace. */
async function readiness(): Promise<Record<string, [number, number]>> {
  const out: Record<string, [number, number]> = {};
  for (const path of WORKLOAD_PATHS) {
    for (const w of (await cluster!.api<Json>('GET', path)).body.items as Json[]) {
      const desired = w.kind === 'DaemonSet' || path.endsWith('daemonsets') ? w.status?.desiredNumberScheduled : w.spec.replicas;
      const ready = path.endsWith('daemonsets') ? w.status?.numberReady : w.status?.readyReplicas;
      out[w.metadata.name] = [ready ?? 0, desired ?? -1];
    }
  }
  return out;
}

/** What a failed wait shows: each pod's phase, waiting reasons and last log lines. */
async function diagnosis(): Promise<string> {
  const pods = (await cluster!.api<Json>('GET', `/api/v1/namespaces/${NS}/pods`)).body.items as Json[];
  const lines: string[] = [];
  for (const p of pods) {
    const cs = (p.status.containerStatuses ?? []) as Json[];
    lines.push(`${p.metadata.name} ${p.status.phase} ${cs.map((c) => `${c.name}:${c.ready ? 'ready' : JSON.stringify(c.state)}`).join(' ')}`);
    if (!cs.every((c) => c.ready)) {
      const log = await cluster!.kubectl(['-n', NS, 'logs', p.metadata.name, '--all-containers', '--tail=15']).catch((e: Error) => e.message);
      lines.push(...log.split('\n').map((l) => `    ${l}`));
    }
  }
  return lines.join('\n');
}

beforeAll(async () => {
  const t0 = Date.now();
  work = mkdtempSync(join(tmpdir(), 'wharf-deploy-'));
  // Cold, this debootstraps and installs Debian's packages (minutes, once per machine); warm, it only hashes.
  const ref = (await timed('images_ms', () => sh('bash', ['deploy/images/build.sh', '--print-ref'], { timeoutMs: 1_500_000 }))).trim();
  expect(ref).toMatch(/^wharf\/services:[0-9a-f]{12}$/);
  await httpTestImage(docker, smokeImage, 'hello from the smoke component', 8080);

  cluster = await timed('cluster_ms', () => startKubernetesCluster());
  await timed('import_ms', () => cluster!.importImage(ref));

  const secrets = join(work, 'secrets');
  const secretsYaml = await sh('bash', ['deploy/secrets.sh', '--dir', secrets, '--namespace', NS]);
  token = readFileSync(join(secrets, 'admin.token'), 'utf8').trim();
  const [username, password] = readFileSync(join(secrets, 'registry.credentials'), 'utf8').trim().split(':');

  proxy = await relayInNodePortRange();
  const registryPort = proxy.port;
  overlay = writeRunOverlay({
    deployDir: join(ROOT, 'deploy'),
    outDir: work,
    serviceCidr: cluster.serviceCidr,
    namespace: NS,
    imageTag: ref.split(':')[1],
    registryPort,
  });
  proxy.target = { host: overlay.ips.registry, port: 5000 };
  registryAuth = { username, password, serveraddress: `127.0.0.1:${registryPort}` };
  api = `http://${overlay.ips['api-gateway']}:8080`;

  await timed('apply_ms', async () => {
    await cluster!.kubectl(['apply', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NS}\n`);
    await cluster!.kubectl(['apply', '-f', '-'], secretsYaml);
    await cluster!.kubectl(['apply', '-k', overlay.dir]);
  });
  await timed('ready_ms', () =>
    waitFor(
      'every Wharf workload ready',
      async () => {
        weighPods();
        const r = await readiness();
        return Object.keys(r).length >= 10 && Object.values(r).every(([ready, desired]) => desired > 0 && ready === desired) ? r : undefined;
      },
      300_000,
      2000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${JSON.stringify(await readiness())}\n${await diagnosis()}`);
    }),
  );
  timings.setup_ms = Date.now() - t0;
}, 1_800_000);

afterAll(async () => {
  unweighPods();
  await proxy?.close();
  await cluster?.stop();
  // The pushed tag only once the registry's address is known: an empty one would make dockerode dial a host named "images".
  for (const ref of [smokeImage, ...(registryAuth.serveraddress ? [`${registryAuth.serveraddress}/smoke/web:1`] : [])])
    await docker
      .getImage(ref)
      .remove({ force: true })
      .catch(() => undefined);
  if (work) rmSync(work, { recursive: true, force: true });
  // One line for the report: where the time of this file goes (no assertion on it).
  process.stdout.write(`${JSON.stringify({ test: 'wharf-on-kubernetes', ...timings })}\n`);
}, 180_000);

it('runs every service with its replicas, etcd as three members and event-log on its claims', async () => {
  const r = await readiness();
  expect(r).toMatchObject({
    etcd: [3, 3],
    'event-log': [2, 2],
    mq: [2, 2],
    'api-gateway': [2, 2],
    'app-manager': [2, 2],
    builder: [1, 1],
    'lb-manager': [1, 1],
    console: [1, 1],
    registry: [1, 1],
    'node-manager': [1, 1],
  });
  const claims = (await cluster!.api<Json>('GET', `/api/v1/namespaces/${NS}/persistentvolumeclaims`)).body.items as Json[];
  expect(claims.map((c) => [c.metadata.name, c.status.phase]).sort()).toEqual([
    ['data-etcd-0', 'Bound'],
    ['data-etcd-1', 'Bound'],
    ['data-etcd-2', 'Bound'],
    ['data-event-log-0', 'Bound'],
    ['data-event-log-1', 'Bound'],
    ['registry-data', 'Bound'],
  ]);
  // The API in the cluster answers, and refuses a caller without a token.
  expect((await fetch(`${api}/readyz`)).status).toBe(200);
  expect((await fetch(`${api}/api/v1/tenants`)).status).toBe(401);
  // node-manager (the DaemonSet, on Kubernetes) registered the cluster's node by its name, READY, with
  // the kubelet as its runtime, and its watcher left the node schedulable and labelled with its roles.
  const nodeName = (await cluster!.api<Json>('GET', '/api/v1/nodes')).body.items[0].metadata.name as string;
  const node = await waitFor(
    'the node READY in Wharf',
    async () => {
      const n = await call('GET', `/api/v1/nodes/${nodeName}`);
      return n.status === 200 && n.body.state === 'READY' ? n.body : undefined;
    },
    60_000,
    1000,
  );
  expect(node.conditions.find((c: Json) => c.type === 'runtime_reachable')).toMatchObject({ ok: true });
  expect(node.heartbeat).toMatchObject({ alive: true, runtime: 'kubernetes' });
  const k8sNode = await waitFor(
    'the role labels on the cluster node',
    async () => {
      const n = (await cluster!.api<Json>('GET', `/api/v1/nodes/${nodeName}`)).body;
      return Object.keys(n.metadata.labels ?? {}).some((l) => l.startsWith('wharf.io/role-')) ? n : undefined;
    },
    30_000,
    1000,
  );
  expect(k8sNode.spec.unschedulable ?? false).toBe(false);
});

it('builds and deploys an image component through the API in the cluster: status, operation log, pods answering', async () => {
  const t0 = Date.now();
  // The component's image, in the data center's registry (the in-cluster one), as a user would push it.
  const source = `${registryAuth.serveraddress}/smoke/web:1`;
  await docker.getImage(smokeImage).tag({ repo: source.slice(0, source.lastIndexOf(':')), tag: '1' });
  const push = await docker.getImage(source).push({ tag: '1', authconfig: registryAuth });
  const pushed = await new Promise<Json[]>((resolve, reject) => docker.modem.followProgress(push, (err, out) => (err ? reject(err) : resolve(out as Json[]))));
  expect(pushed.find((e) => e.error)).toBeUndefined();

  expect((await call('POST', '/api/v1/tenants', { name: 'acme' })).status).toBe(201);
  expect((await call('POST', '/api/v1/tenants/acme/apps', { name: 'shop' })).status).toBe(201);
  const created = await call('POST', '/api/v1/tenants/acme/apps/acme.shop/components', {
    name: 'web',
    source: { image: source },
    ports: [{ port: 8080, protocol: 'http' }],
    replicas: 2,
    cpu_millis: 50,
    memory_mib: 64,
    probe: { kind: 'http', path: '/', port: 8080, period_s: 1, failure_threshold: 2 },
  });
  expect(created.status).toBe(201);
  const id = created.body.id as string;

  const op = await call('POST', `/api/v1/tenants/acme/components/${id}/operations`, { kind: 'build', deploy_after: true });
  expect(op.status).toBe(202);
  const eventId = op.body.event_id as string;
  const final = await waitFor(
    'the build-and-deploy operation to finish',
    async () => {
      const o = await call('GET', `/api/v1/tenants/acme/operations/${eventId}`);
      return ['success', 'failure', 'timeout'].includes(o.body.status) ? o.body : undefined;
    },
    180_000,
    1000,
  );
  const log = await call('GET', `/api/v1/operations/${eventId}/entries?limit=5000`);
  expect(log.status).toBe(200);
  const lines = (log.body.entries as Json[]).filter((e) => e.type === 'line').map((e) => e.text as string);
  // The message says why when it is not a success (null on success).
  expect({ status: final.status, message: final.message }).toEqual({ status: 'success', message: null });
  // One timeline: the builder's pull and push, app-manager's rollout, under the one event id.
  expect(lines.join('\n')).toMatch(/pulling 127\.0\.0\.1:\d+\/smoke\/web:1/);
  expect(lines.join('\n')).toMatch(/recorded version /);
  expect(lines.join('\n')).toMatch(/applied Deployment of v-\S+ .*: 2 replica\(s\)/);
  // One final entry, success. event-log stores frames that come after it without changing it
  // (its contract); in CI on a loaded machine a successful step_finished came after it.
  expect((log.body.entries as Json[]).filter((e) => e.type === 'final')).toEqual([expect.objectContaining({ type: 'final', status: 'success' })]);

  const status = await waitFor(
    'the running status',
    async () => {
      const s = await call('GET', `/api/v1/tenants/acme/components/${id}/status`);
      return s.body.state === 'running' && s.body.ready_replicas === 2 ? s.body : undefined;
    },
    60_000,
    1000,
  );
  expect(status).toMatchObject({ runtime: 'kubernetes', desired_replicas: 2, ready_replicas: 2 });

  // The component's pods run on the cluster Wharf runs on, from the image the builder pushed, and answer.
  const pods = (await cluster!.api<Json>('GET', '/api/v1/namespaces/wharf-acme/pods')).body.items as Json[];
  expect(pods).toHaveLength(2);
  for (const p of pods) {
    expect(p.spec.containers[0].image).toMatch(new RegExp(`^127\\.0\\.0\\.1:${proxy!.port}/`));
    const res = await fetch(`http://${p.status.podIP}:8080/`, { signal: AbortSignal.timeout(5000) });
    expect(await res.text()).toContain('hello from the smoke component');
  }
  timings.story_ms = Date.now() - t0;
});
