import { createCa, issueCertificate } from '@wharf/pki';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { buildTestImage, dockerClient } from './docker';
import { startEtcd, type EtcdInstance } from './etcd';
import {
  apiserverArgs,
  CLUSTER_SLOTS,
  clusterNetwork,
  controllerManagerArgs,
  KUBELET_HOST_SYSCTLS,
  kubeletArgs,
  kubeProxyArgs,
  kubernetesBinDir,
  loopbackRegistryPort,
  MAX_NODES,
  nodeName,
  PAUSE_IMAGE,
  renderCniConflist,
  renderContainerdConfig,
  renderKubeconfig,
  renderTokenFile,
  schedulerArgs,
  sysctlPath,
  CLUSTER_STATE_DIR,
  SYSCTLS_RECORD_FILE,
  type ClusterNetwork,
  type TokenUser,
} from './kubernetes-cluster-config';
import { freePort, waitFor } from './ports';
import { spawnProcess, type ManagedProcess } from './process';

// A real Kubernetes 1.20 cluster for tests, on this one machine (see docs/kubernetes-test-cluster.md).
//
// Layout: the control plane (etcd, kube-apiserver, controller-manager, scheduler) runs in the host's
// network namespace; the nodes (per node a containerd and a kubelet) and the one kube-proxy run in a
// network namespace of the cluster's own, joined to the host by a veth pair. So the iptables rules
// kube-proxy and the kubelet write, the CNI bridges and the pod routes live in that namespace and go
// with it: concurrent clusters (test files running side by side) cannot overwrite each other's
// KUBE-SERVICES chain, and the host's FORWARD policy (DROP, left by dockerd) does not apply.
// The host reaches node IPs, pod IPs and ClusterIPs through routes over the veth.
//
// Runtime: containerd through CRI, not the 1.20 Docker shim. One containerd per node gives every
// node its own root, state and socket (two nodes on one machine), needs only
// `restrict_oom_score_adj = true` where the shim needed a runc wrapper clamping oom scores, and is
// the runtime current Kubernetes releases use (the shim is gone since 1.24).
//
// Each node's containerd and kubelet share a private mount namespace in which /var/log/pods and
// /var/log/containers are the node's own directories: kubelets sharing them delete each other's
// logs. Their mounts (pod volumes, rootfs, netns bind mounts) go away with that namespace.

export interface KubernetesNode {
  /** The Kubernetes node name: node-1, node-2. */
  readonly name: string;
  /** Its InternalIP on the cluster's node network (reachable from the host). */
  readonly ip: string;
  /** Its pod CIDR (pods of this node get IPs from it). */
  readonly podCidr: string;
  /** Its containerd's socket (for `ctr -a`). */
  readonly containerdSocket: string;
  /** Whether its kubelet is running. */
  kubeletRunning(): boolean;
  /** Stops its kubelet (SIGKILL by default: a node dying). Its containers keep running, as on a real node. */
  stopKubelet(signal?: NodeJS.Signals): Promise<void>;
  /** Starts its kubelet again (the same name, IP and root dir). */
  startKubelet(): Promise<void>;
}

export interface KubernetesCluster {
  /** A kubeconfig for the admin user (group system:masters, token auth). */
  readonly kubeconfigPath: string;
  /** https://IP:PORT of the apiserver (an address on the cluster's veth, not loopback). */
  readonly server: string;
  /** The admin's bearer token. */
  readonly token: string;
  /** PEM of the CA the apiserver's certificate is signed by. */
  readonly caPem: string;
  readonly nodes: readonly KubernetesNode[];
  /** Service ClusterIP range, e.g. 10.96.3.0/24. */
  readonly serviceCidr: string;
  /** Pod range of all nodes, e.g. 10.131.0.0/16. */
  readonly clusterCidr: string;
  /** Where kubectl (1.20) and the other binaries are. */
  readonly binDir: string;
  /** Copies an image of the machine's Docker Engine into every node's containerd (pods then use it with imagePullPolicy: Never or IfNotPresent). */
  importImage(imageRef: string): Promise<void>;
  /** Runs Debian's kubectl 1.20 against this cluster as admin; resolves with its stdout, rejects with its stderr. */
  kubectl(args: readonly string[], input?: string): Promise<string>;
  /** GET/POST/... on the API as admin; resolves with status and parsed JSON body. */
  api<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: T }>;
  /** How long start-up took (ms from the call): apiserver ready, every node Ready, and the whole call. */
  readonly timings: { readonly apiserverReadyMs: number; readonly nodesReadyMs: number; readonly totalMs: number };
  /**
   * What it set up on the host: the network namespace, the host's veth end, the temp dirs (its own and its etcd's), the
   * nodes' mount namespaces (`mnt:[inode]`, holding every container and shim), for tests asserting that stop() removed
   * them and for a clean-up after a crash of the process that started it.
   */
  readonly host: {
    readonly netns: string;
    readonly hostLink: string;
    readonly dir: string;
    readonly etcdDir: string;
    readonly mountNamespaces: readonly string[];
  };
  /** Where each of `options.registries` is reached from the nodes (its mirror endpoint), by registry host. */
  readonly registryMirrors: Readonly<Record<string, string>>;
  /** Pids of every process the cluster runs now: its components, containerd shims and the containers' processes. */
  processIds(): Promise<number[]>;
  /** Stops everything it started and leaves the machine as it found it (processes, namespace, routes, sysctls, temp dirs). Idempotent. */
  stop(): Promise<void>;
}

export interface StartKubernetesClusterOptions {
  /** 1 (default) or 2 nodes. */
  nodes?: 1 | 2;
  /** How long to wait for every node to be Ready (default 90 s). */
  readyTimeoutMs?: number;
  /**
   * Registries on this machine's loopback (`127.0.0.1:PORT`, e.g. the data center's) the nodes pull
   * from: the nodes' 127.0.0.1 is their own, so the cluster relays the registry's port on its host
   * address (reachable only from the cluster's namespace and this machine) and gives every node's
   * containerd a mirror there. Image refs stay `127.0.0.1:PORT/...`.
   */
  registries?: readonly string[];
}

const STATE_DIR = CLUSTER_STATE_DIR;
const BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl'];

function run(command: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

async function tryRun(command: string, args: readonly string[]): Promise<void> {
  await run(command, args).catch(() => undefined);
}

/** Not exited: a child killed by a signal keeps exitCode null (its signalCode is set). */
function running(p: ManagedProcess | undefined): boolean {
  return !!p && p.child.exitCode === null && p.child.signalCode === null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function slotPidFile(slot: number): string {
  return join(STATE_DIR, `slot-${slot}.pid`);
}

function slotLive(slot: number): boolean {
  const net = clusterNetwork(slot);
  if (!existsSync(`/run/netns/${net.netns}`)) return false;
  try {
    return alive(Number(readFileSync(slotPidFile(slot), 'utf8').trim()));
  } catch {
    return true; // a namespace of that name without our pid file: someone's, leave it alone
  }
}

/**
 * Claims a free network slot: `ip netns add` is atomic, so two clusters starting at once never
 * get the same one. A slot whose namespace outlived its owner (a killed test run) is reclaimed.
 */
async function claimSlot(): Promise<ClusterNetwork> {
  mkdirSync(STATE_DIR, { recursive: true });
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const net = clusterNetwork(slot);
    if (existsSync(`/run/netns/${net.netns}`)) {
      if (slotLive(slot) || !existsSync(slotPidFile(slot))) continue;
      await tryRun('ip', ['netns', 'del', net.netns]);
      await tryRun('ip', ['link', 'del', net.hostLink]);
    }
    try {
      await run('ip', ['netns', 'add', net.netns]);
    } catch {
      continue;
    }
    writeFileSync(slotPidFile(slot), `${process.pid}\n`);
    return net;
  }
  throw new Error(`no free Kubernetes test-cluster slot: ${CLUSTER_SLOTS} clusters already run on this machine`);
}

/** The namespace's links: a bridge holding the node IPs, a veth to the host, routes for pods and Services on the host. */
async function setUpNetwork(net: ClusterNetwork, nodes: number): Promise<void> {
  const inNs = (...args: string[]) => run('ip', ['-n', net.netns, ...args]);
  await tryRun('ip', ['link', 'del', net.hostLink]);
  await run('ip', ['link', 'add', net.hostLink, 'type', 'veth', 'peer', 'name', net.peerLink, 'netns', net.netns]);
  await inNs('link', 'set', 'lo', 'up');
  await inNs('link', 'add', net.nodeBridge, 'type', 'bridge');
  for (let i = 1; i <= nodes; i++) await inNs('addr', 'add', `${net.nodeIp(i)}/24`, 'dev', net.nodeBridge);
  await inNs('link', 'set', net.nodeBridge, 'up');
  await inNs('link', 'set', net.peerLink, 'master', net.nodeBridge, 'up');
  await run('ip', ['addr', 'add', `${net.hostIp}/24`, 'dev', net.hostLink]);
  await run('ip', ['link', 'set', net.hostLink, 'up']);
  await run('ip', ['route', 'add', net.clusterCidr, 'via', net.nodeIp(1), 'dev', net.hostLink]);
  await run('ip', ['route', 'add', net.serviceCidr, 'via', net.nodeIp(1), 'dev', net.hostLink]);
  // Per-namespace settings: routing between the pod bridges and the node bridge, and bridged pod
  // traffic through the namespace's iptables (Service hairpin).
  await run('ip', ['netns', 'exec', net.netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  await tryRun('ip', ['netns', 'exec', net.netns, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1']);
}

/** Removing the namespace removes its links, its iptables rules and, with the host's veth end, the host's routes. */
async function tearDownNetwork(net: ClusterNetwork): Promise<void> {
  await tryRun('ip', ['netns', 'del', net.netns]);
  await tryRun('ip', ['link', 'del', net.hostLink]);
  rmSync(slotPidFile(net.slot), { force: true });
}

/** The kubelet changes these host-wide: the first cluster records them, the last one to stop restores them. */
function recordSysctls(): void {
  const file = SYSCTLS_RECORD_FILE;
  if (existsSync(file)) return;
  const values: Record<string, string> = {};
  for (const name of KUBELET_HOST_SYSCTLS) {
    try {
      values[name] = readFileSync(sysctlPath(name), 'utf8').trim();
    } catch {
      // not on this kernel
    }
  }
  writeFileSync(file, JSON.stringify(values));
}

function restoreSysctlsIfLast(ownSlot: number): void {
  const file = SYSCTLS_RECORD_FILE;
  for (let s = 0; s < CLUSTER_SLOTS; s++) if (s !== ownSlot && slotLive(s)) return;
  if (!existsSync(file)) return;
  const values = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  for (const [name, value] of Object.entries(values)) {
    try {
      writeFileSync(sysctlPath(name), value);
    } catch {
      // read-only here: nothing was changed either
    }
  }
  rmSync(file, { force: true });
}

function httpsJson<T>(
  server: string,
  caPem: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(
      `${server}${path}`,
      {
        method,
        ca: caPem,
        timeout: 10_000,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(payload !== undefined ? { 'content-type': contentType } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // /readyz answers plain text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function token(): string {
  return randomBytes(24).toString('hex');
}

/** Processes whose mount namespace is `mntNs` (a node's: its containerd, kubelet and shims). */
function processesInMountNs(mntNs: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/mnt`) === mntNs) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Relays `listenHost:port` to 127.0.0.1:port (a loopback registry, for the nodes' namespace). */
function startRelay(listenHost: string, port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const sock of [client, upstream]) {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      sock.on('error', () => sock.destroy());
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`relaying the registry 127.0.0.1:${port} on ${listenHost}: ${err.message}`)));
    server.listen(port, listenHost, () =>
      resolve({
        close: () =>
          new Promise<void>((done) => {
            for (const sock of sockets) sock.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}

interface NodeRuntime {
  index: number;
  dir: string;
  holder: ManagedProcess;
  mntNs: string;
  containerd: ManagedProcess;
  socket: string;
}

/**
 * Starts a cluster of `nodes` nodes and waits until every node is Ready and the `default`
 * service account exists (so pods can be created at once). Needs root, the binaries
 * (scripts/kubernetes/build-binaries.sh, run by scripts/ensure-deps.sh), and the Docker Engine
 * (the pause image is built there and copied in). About 15 s. Call stop() in afterAll.
 */
export async function startKubernetesCluster(options: StartKubernetesClusterOptions = {}): Promise<KubernetesCluster> {
  const t0 = Date.now();
  const timings = { apiserverReadyMs: 0, nodesReadyMs: 0, totalMs: 0 };
  const nodeCount = options.nodes ?? 1;
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > MAX_NODES) throw new Error(`nodes: ${String(nodeCount)}: must be 1 or ${MAX_NODES}`);
  const binDir = kubernetesBinDir();
  const registryPorts = (options.registries ?? []).map((r) => ({ host: r, port: loopbackRegistryPort(r) }));
  const missing = BINARIES.filter((b) => !existsSync(join(binDir, b)));
  if (missing.length) throw new Error(`Kubernetes binaries missing in ${binDir} (${missing.join(', ')}): run scripts/kubernetes/build-binaries.sh`);
  if (process.getuid?.() !== 0) throw new Error('startKubernetesCluster needs root (network namespaces, containerd, kubelet)');
  const bin = (name: string) => join(binDir, name);

  const started: ManagedProcess[] = [];
  const runtimes: NodeRuntime[] = [];
  const kubelets = new Map<number, ManagedProcess>();
  const relays: { close(): Promise<void> }[] = [];
  const registryMirrors: Record<string, string> = {};
  let etcd: EtcdInstance | undefined;
  let net: ClusterNetwork | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'wharf-k8s-'));
  let stopped = false;
  // The directories the host-path provisioner made for this cluster's volumes (read while the apiserver still answers).
  let hostPathVolumeDirs: (() => Promise<string[]>) | undefined;

  const stopNodeRuntime = async (rt: NodeRuntime) => {
    // Kill every container through containerd first: killing containerd or a shim leaves the containers running.
    const ctr = (...args: string[]) => run('ctr', ['-a', rt.socket, '-n', 'k8s.io', ...args], { timeoutMs: 15_000 });
    if (running(rt.containerd)) {
      const tasks = (await ctr('tasks', 'ls', '-q').catch(() => ''))
        .split('\n')
        .map((t) => t.trim())
        .filter(Boolean);
      await Promise.all(tasks.map((t) => ctr('tasks', 'kill', '--all', '--signal', 'SIGKILL', t).catch(() => undefined)));
      await Promise.all(
        tasks.map((t) =>
          waitFor(
            `task ${t} to end`,
            () =>
              ctr('tasks', 'delete', t).then(
                () => true,
                (e: Error) => (/not found/.test(e.message) ? true : undefined),
              ),
            10_000,
            100,
          ).catch(() => undefined),
        ),
      );
      await rt.containerd.stop('SIGTERM');
    }
    // What is left in the node's mount namespace (shims that did not exit) was started by this node.
    for (const pid of processesInMountNs(rt.mntNs)) if (pid !== rt.holder.pid) process.kill(pid, 'SIGKILL');
    await rt.holder.stop('SIGKILL');
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const volumeDirs = (await hostPathVolumeDirs?.().catch(() => [])) ?? [];
    for (const k of kubelets.values()) await k.stop('SIGTERM');
    for (const p of [...started].reverse()) await p.stop('SIGTERM');
    for (const rt of runtimes) await stopNodeRuntime(rt);
    for (const r of relays) await r.close();
    if (net) {
      await tearDownNetwork(net);
      restoreSysctlsIfLast(net.slot);
    }
    await etcd?.destroy();
    rmSync(dir, { recursive: true, force: true });
    for (const d of volumeDirs) rmSync(d, { recursive: true, force: true });
  };

  try {
    net = await claimSlot();
    const network = net;
    await setUpNetwork(network, nodeCount);
    recordSysctls();
    for (const r of registryPorts) {
      relays.push(await startRelay(network.hostIp, r.port));
      registryMirrors[r.host] = `http://${network.hostIp}:${r.port}`;
    }

    // Certificates: the apiserver's serving certificate (its IP and the `kubernetes` Service's) and
    // its client certificate towards the kubelets, from one CA; a key pair for service-account tokens.
    const ca = await createCa({ commonName: 'Wharf test Kubernetes CA' });
    const serving = await issueCertificate(ca, {
      identity: 'kube-apiserver',
      hosts: [network.hostIp, network.apiServiceIp, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    });
    const kubeletClient = await issueCertificate(ca, { identity: 'kube-apiserver-kubelet-client' });
    const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pki = join(dir, 'pki');
    mkdirSync(pki);
    const files = {
      ca: join(pki, 'ca.crt'),
      cert: join(pki, 'apiserver.crt'),
      key: join(pki, 'apiserver.key'),
      kcCert: join(pki, 'kubelet-client.crt'),
      kcKey: join(pki, 'kubelet-client.key'),
      saPub: join(pki, 'sa.pub'),
      saKey: join(pki, 'sa.key'),
      tokens: join(pki, 'tokens.csv'),
    };
    writeFileSync(files.ca, ca.certPem);
    writeFileSync(files.cert, serving.certPem);
    writeFileSync(files.key, serving.keyPem, { mode: 0o600 });
    writeFileSync(files.kcCert, kubeletClient.certPem);
    writeFileSync(files.kcKey, kubeletClient.keyPem, { mode: 0o600 });
    writeFileSync(files.saPub, sa.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(files.saKey, sa.privateKey.export({ type: 'sec1', format: 'pem' }), { mode: 0o600 });

    // One token per component, each with only its own role (Node authorizer for kubelets, RBAC's bootstrap roles for the rest).
    const users: Record<string, TokenUser> = {
      admin: { token: token(), user: 'wharf-test-admin', groups: ['system:masters'] },
      controllerManager: { token: token(), user: 'system:kube-controller-manager', groups: [] },
      scheduler: { token: token(), user: 'system:kube-scheduler', groups: [] },
      proxy: { token: token(), user: 'system:kube-proxy', groups: [] },
    };
    for (let i = 1; i <= nodeCount; i++) users[`node${i}`] = { token: token(), user: `system:node:${nodeName(i)}`, groups: ['system:nodes'] };
    writeFileSync(files.tokens, renderTokenFile(Object.values(users)), { mode: 0o600 });

    const port = await freePort();
    const server = `https://${network.hostIp}:${port}`;
    const kubeconfig = (name: string, u: TokenUser) => {
      const path = join(dir, `${name}.kubeconfig`);
      writeFileSync(path, renderKubeconfig({ server, caPem: ca.certPem, user: u.user, token: u.token }), { mode: 0o600 });
      return path;
    };
    const api = <T>(method: string, path: string, body?: unknown, contentType?: string) =>
      httpsJson<T>(server, ca.certPem, users.admin.token, method, path, body, contentType);
    hostPathVolumeDirs = async () => {
      const pvs = await api<{ items?: { spec?: { hostPath?: { path?: string } } }[] }>('GET', '/api/v1/persistentvolumes');
      return (pvs.body.items ?? []).map((pv) => pv.spec?.hostPath?.path ?? '').filter((p) => /^\/tmp\/hostpath_provisioner\/[0-9a-f-]+$/.test(p));
    };

    const controlPlane = async () => {
      etcd = await startEtcd();
      const etcdClient = etcd.pki.files('admin');
      const apiserver = spawnProcess(
        bin('kube-apiserver'),
        apiserverArgs({
          etcdEndpoint: etcd.endpoint,
          etcdCaFile: etcdClient.caFile,
          etcdCertFile: etcdClient.certFile,
          etcdKeyFile: etcdClient.keyFile,
          bindAddress: network.hostIp,
          securePort: port,
          certFile: files.cert,
          keyFile: files.key,
          caFile: files.ca,
          tokenFile: files.tokens,
          serviceAccountPublicKeyFile: files.saPub,
          serviceAccountPrivateKeyFile: files.saKey,
          serviceCidr: network.serviceCidr,
          kubeletClientCertFile: files.kcCert,
          kubeletClientKeyFile: files.kcKey,
        }),
      );
      started.push(apiserver);
      await waitFor(
        'kube-apiserver /readyz',
        async () => {
          if (!running(apiserver)) throw new Error(`kube-apiserver exited: ${apiserver.output().slice(-3000)}`);
          return (await api('GET', '/readyz')).status === 200 || undefined;
        },
        60_000,
        200,
      );
      timings.apiserverReadyMs = Date.now() - t0;
      started.push(
        spawnProcess(
          bin('kube-controller-manager'),
          controllerManagerArgs({
            kubeconfig: kubeconfig('controller-manager', users.controllerManager),
            serviceAccountPrivateKeyFile: files.saKey,
            caFile: files.ca,
          }),
        ),
      );
      started.push(spawnProcess(bin('kube-scheduler'), schedulerArgs({ kubeconfig: kubeconfig('scheduler', users.scheduler) })));
    };

    // The pause image, made from busybox on the machine's Docker Engine and saved once for every node.
    const pauseTar = join(dir, 'pause.tar');
    const pauseImage = async () => {
      const docker = dockerClient();
      await buildTestImage(docker, PAUSE_IMAGE, { cmd: ['sh', '-c', 'trap "exit 0" TERM; sleep 2147483647 & wait'] });
      await pipeline((await docker.getImage(PAUSE_IMAGE).get()) as NodeJS.ReadableStream, createWriteStream(pauseTar));
    };

    // No resolver for the nodes or their pods: a name lookup (an image pull of a name that is not
    // imported) fails at once instead of leaving the machine.
    const resolvConf = join(dir, 'resolv.conf');
    writeFileSync(resolvConf, '');

    const startRuntime = async (index: number): Promise<NodeRuntime> => {
      const nodeDir = join(dir, nodeName(index));
      for (const d of ['cni', 'cni-ipam', 'log-pods', 'log-containers', 'kubelet', 'kubelet-pki']) mkdirSync(join(nodeDir, d), { recursive: true });
      writeFileSync(
        join(nodeDir, 'containerd.toml'),
        renderContainerdConfig({
          dir: nodeDir,
          cniConfDir: join(nodeDir, 'cni'),
          mirrors: Object.entries(registryMirrors).map(([host, endpoint]) => ({ host, endpoint })),
        }),
      );
      writeFileSync(
        join(nodeDir, 'cni', '10-wharf.conflist'),
        renderCniConflist({ node: index, bridge: network.podBridge(index), podCidr: network.podCidr(index), ipamDir: join(nodeDir, 'cni-ipam') }),
      );
      // The node's namespaces: the cluster's network and a private mount namespace with its own log dirs.
      const script = [
        'set -e',
        'mkdir -p /var/log/pods /var/log/containers',
        `mount --bind '${join(nodeDir, 'log-pods')}' /var/log/pods`,
        `mount --bind '${join(nodeDir, 'log-containers')}' /var/log/containers`,
        `mount --bind '${resolvConf}' /etc/resolv.conf`,
        'echo namespace-ready',
        'exec sleep infinity',
      ].join('\n');
      const holder = spawnProcess('nsenter', [
        `--net=/run/netns/${network.netns}`,
        '--',
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        script,
      ]);
      await holder.waitForOutput(/namespace-ready/, 10_000);
      const mntNs = readlinkSync(`/proc/${holder.pid}/ns/mnt`);
      const socket = join(nodeDir, 'containerd.sock');
      const containerd = spawnProcess('nsenter', [
        '--target',
        String(holder.pid),
        '--mount',
        '--net',
        '--',
        'containerd',
        '--config',
        join(nodeDir, 'containerd.toml'),
        '--log-level',
        'warn',
      ]);
      const rt: NodeRuntime = { index, dir: nodeDir, holder, mntNs, containerd, socket };
      runtimes.push(rt);
      await waitFor(
        `containerd of ${nodeName(index)}`,
        async () => {
          if (!running(containerd)) throw new Error(`containerd exited: ${containerd.output().slice(-3000)}`);
          await run('ctr', ['-a', socket, 'version'], { timeoutMs: 2000 });
          return true;
        },
        20_000,
        100,
      );
      return rt;
    };

    const startKubelet = async (rt: NodeRuntime) => {
      const name = nodeName(rt.index);
      const kubelet = spawnProcess('nsenter', [
        '--target',
        String(rt.holder.pid),
        '--mount',
        '--net',
        '--',
        bin('kubelet'),
        ...kubeletArgs({
          name,
          ip: network.nodeIp(rt.index),
          kubeconfig: kubeconfig(`kubelet-${name}`, users[`node${rt.index}`]),
          rootDir: join(rt.dir, 'kubelet'),
          certDir: join(rt.dir, 'kubelet-pki'),
          healthzPort: 10240 + rt.index,
          containerdSocket: rt.socket,
          podCidr: network.podCidr(rt.index),
          caFile: files.ca,
          resolvConf,
        }),
      ]);
      kubelets.set(rt.index, kubelet);
    };
    // The nodes come up while the apiserver starts: a kubelet retries its registration until the
    // API answers, and its own start (runtime status, cAdvisor) overlaps the apiserver's.
    const startNodes = async () => {
      const [, runtimesUp] = await Promise.all([pauseImage(), Promise.all(Array.from({ length: nodeCount }, (_, i) => startRuntime(i + 1)))]);
      await Promise.all(runtimesUp.map((rt) => run('ctr', ['-a', rt.socket, '-n', 'k8s.io', 'images', 'import', pauseTar], { timeoutMs: 60_000 })));
      rmSync(pauseTar, { force: true });
      for (const rt of runtimesUp) await startKubelet(rt);
      started.push(
        spawnProcess('nsenter', [
          `--net=/run/netns/${network.netns}`,
          '--',
          bin('kube-proxy'),
          ...kubeProxyArgs({ kubeconfig: kubeconfig('kube-proxy', users.proxy), nodeName: nodeName(1), clusterCidr: network.clusterCidr }),
        ]),
      );
      return runtimesUp;
    };
    // Both settle before a failure is thrown, so stop() never races a half-started node.
    const [planeUp, nodesUp] = await Promise.allSettled([controlPlane(), startNodes()]);
    if (planeUp.status === 'rejected') throw planeUp.reason;
    if (nodesUp.status === 'rejected') throw nodesUp.reason;
    const rts = nodesUp.value;

    const names = rts.map((rt) => nodeName(rt.index));
    await waitFor(
      `nodes ${names.join(', ')} Ready`,
      async () => {
        for (const [i, k] of kubelets) if (!running(k)) throw new Error(`kubelet of ${nodeName(i)} exited: ${k.output().slice(-3000)}`);
        type NodeList = { items?: { metadata: { name: string }; spec?: { podCIDR?: string }; status?: { conditions?: { type: string; status: string }[] } }[] };
        const items = (await api<NodeList>('GET', '/api/v1/nodes')).body.items ?? [];
        // The kubelet's --pod-cidr is not written to its Node (only the controller-manager's IPAM
        // does that, which would hand out CIDRs in its own order): the node's CNI range is set here.
        for (const n of items) {
          const index = names.indexOf(n.metadata.name) + 1;
          if (index > 0 && !n.spec?.podCIDR) {
            const podCidr = network.podCidr(index);
            const patched = await api(
              'PATCH',
              `/api/v1/nodes/${n.metadata.name}`,
              { spec: { podCIDR: podCidr, podCIDRs: [podCidr] } },
              'application/strategic-merge-patch+json',
            );
            if (patched.status !== 200) throw new Error(`setting the pod CIDR of ${n.metadata.name}: ${patched.status} ${JSON.stringify(patched.body)}`);
          }
        }
        const ready = new Set(items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name));
        return names.every((n) => ready.has(n)) || undefined;
      },
      options.readyTimeoutMs ?? 90_000,
      250,
    );
    timings.nodesReadyMs = Date.now() - t0;
    await waitFor(
      'the default service account',
      async () => (await api('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200 || undefined,
      30_000,
      200,
    );

    const kubeconfigPath = kubeconfig('admin', users.admin);
    const nodes: KubernetesNode[] = rts.map((rt) => ({
      name: nodeName(rt.index),
      ip: network.nodeIp(rt.index),
      podCidr: network.podCidr(rt.index),
      containerdSocket: rt.socket,
      kubeletRunning: () => running(kubelets.get(rt.index)),
      async stopKubelet(signal: NodeJS.Signals = 'SIGKILL') {
        await kubelets.get(rt.index)?.stop(signal);
      },
      async startKubelet() {
        if (running(kubelets.get(rt.index))) return;
        await startKubelet(rt);
      },
    }));
    timings.totalMs = Date.now() - t0;
    return {
      kubeconfigPath,
      timings,
      server,
      token: users.admin.token,
      caPem: ca.certPem,
      nodes,
      serviceCidr: network.serviceCidr,
      clusterCidr: network.clusterCidr,
      binDir,
      host: { netns: network.netns, hostLink: network.hostLink, dir, etcdDir: etcd!.dataDir, mountNamespaces: rts.map((rt) => rt.mntNs) },
      registryMirrors,
      async processIds() {
        const pids = new Set<number>();
        for (const p of [...started, ...kubelets.values()]) if (running(p)) pids.add(p.pid);
        for (const rt of rts) {
          for (const pid of processesInMountNs(rt.mntNs)) pids.add(pid);
          const tasks = await run('ctr', ['-a', rt.socket, '-n', 'k8s.io', 'tasks', 'ls']).catch(() => '');
          for (const line of tasks.split('\n').slice(1)) {
            const pid = Number(line.trim().split(/\s+/)[1]);
            if (pid > 0) pids.add(pid);
          }
        }
        return [...pids];
      },
      api,
      kubectl: (args, input) => run(bin('kubectl'), ['--kubeconfig', kubeconfigPath, ...args], { input, timeoutMs: 60_000 }),
      async importImage(imageRef) {
        const tar = join(dir, `import-${randomBytes(4).toString('hex')}.tar`);
        try {
          await pipeline((await dockerClient().getImage(imageRef).get()) as NodeJS.ReadableStream, createWriteStream(tar));
          await Promise.all(rts.map((rt) => run('ctr', ['-a', rt.socket, '-n', 'k8s.io', 'images', 'import', tar], { timeoutMs: 120_000 })));
        } finally {
          rmSync(tar, { force: true });
        }
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
