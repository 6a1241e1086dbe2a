// Pure parts of the test Kubernetes cluster (kubernetes-cluster.ts): its addresses, the files it
// writes and the flags it starts each component with. No side effects, so each is unit-tested.

/** Kubernetes version the test cluster runs: what Debian bookworm ships (source package `kubernetes`). */
export const KUBERNETES_VERSION = '1.20.2';

/** Clusters that can run on one machine at the same time (one network slot each). */
export const CLUSTER_SLOTS = 64;

/** Most nodes one test cluster has (node IPs .1-.N of the node network, pod CIDRs 1-N). */
export const MAX_NODES = 2;

/** The pause image every pod sandbox runs: made locally (busybox), never pulled. A localhost/ name, so a pull that should never happen could only go to 127.0.0.1. */
export const PAUSE_IMAGE = 'localhost/wharf-k8s-pause:1';

/**
 * Where the kube binaries are cached (scripts/kubernetes/build-binaries.sh builds them there):
 * WHARF_KUBERNETES_BIN_DIR, else ${WHARF_CACHE_DIR:-/var/cache/wharf}/kubernetes/<version>/bin.
 */
export function kubernetesBinDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WHARF_KUBERNETES_BIN_DIR) return env.WHARF_KUBERNETES_BIN_DIR;
  return `${env.WHARF_CACHE_DIR || '/var/cache/wharf'}/kubernetes/${KUBERNETES_VERSION}/bin`;
}

/**
 * The addresses of the cluster in slot `slot`. Every range depends on the slot, so clusters of
 * concurrent test files never share a route, a node IP or a Service IP on the host:
 *   node network 10.250.S.0/24: node N is .N, the host's end (where the apiserver listens) .254;
 *   pods 10.(128+S).0.0/16, node N's pod CIDR 10.(128+S).N.0/24;
 *   Services 10.96.S.0/24 (the `kubernetes` Service is .1).
 */
export interface ClusterNetwork {
  readonly slot: number;
  /** The cluster's network namespace (nodes and kube-proxy run in it). */
  readonly netns: string;
  /** Host end of the veth into the namespace. */
  readonly hostLink: string;
  /** Its peer inside the namespace (a port of the node bridge). */
  readonly peerLink: string;
  /** The node bridge inside the namespace: holds the node IPs. */
  readonly nodeBridge: string;
  readonly nodeNetwork: string;
  readonly hostIp: string;
  readonly clusterCidr: string;
  readonly serviceCidr: string;
  /** ClusterIP of the `kubernetes` Service. */
  readonly apiServiceIp: string;
  nodeIp(index: number): string;
  podCidr(index: number): string;
  /** The CNI bridge of node `index` inside the namespace. */
  podBridge(index: number): string;
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= CLUSTER_SLOTS) throw new Error(`cluster slot ${slot}: must be an integer 0..${CLUSTER_SLOTS - 1}`);
}

function checkNode(index: number): void {
  if (!Number.isInteger(index) || index < 1 || index > MAX_NODES) throw new Error(`node ${index}: must be 1..${MAX_NODES}`);
}

export function clusterNetwork(slot: number): ClusterNetwork {
  checkSlot(slot);
  return {
    slot,
    netns: `wharf-k8s-${slot}`,
    hostLink: `wk8s${slot}h`,
    peerLink: 'host0',
    nodeBridge: 'nodes0',
    nodeNetwork: `10.250.${slot}.0/24`,
    hostIp: `10.250.${slot}.254`,
    clusterCidr: `10.${128 + slot}.0.0/16`,
    serviceCidr: `10.96.${slot}.0/24`,
    apiServiceIp: `10.96.${slot}.1`,
    nodeIp: (i) => (checkNode(i), `10.250.${slot}.${i}`),
    podCidr: (i) => (checkNode(i), `10.${128 + slot}.${i}.0/24`),
    podBridge: (i) => (checkNode(i), `cni${i}`),
  };
}

export function nodeName(index: number): string {
  checkNode(index);
  return `node-${index}`;
}

/** One line of the apiserver's --token-auth-file: token,user,uid,"group,group". */
export interface TokenUser {
  readonly token: string;
  readonly user: string;
  readonly groups: readonly string[];
}

export function renderTokenFile(users: readonly TokenUser[]): string {
  for (const u of users) {
    if (!/^[A-Za-z0-9]+$/.test(u.token)) throw new Error(`token of ${u.user}: must be alphanumeric`);
    if (/[",\n]/.test(u.user) || u.groups.some((g) => /[",\n]/.test(g))) throw new Error(`user ${u.user}: names cannot hold commas or quotes`);
  }
  return users.map((u) => `${u.token},${u.user},${u.user}${u.groups.length ? `,"${u.groups.join(',')}"` : ''}`).join('\n') + '\n';
}

/** A kubeconfig for one user with a bearer token (JSON is YAML, and needs no YAML library). */
export function renderKubeconfig(options: { server: string; caPem: string; user: string; token: string }): string {
  return (
    JSON.stringify(
      {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'wharf-test', cluster: { server: options.server, 'certificate-authority-data': Buffer.from(options.caPem).toString('base64') } }],
        users: [{ name: options.user, user: { token: options.token } }],
        contexts: [{ name: 'wharf-test', context: { cluster: 'wharf-test', user: options.user } }],
        'current-context': 'wharf-test',
      },
      null,
      2,
    ) + '\n'
  );
}

/**
 * A registry on the host's loopback (the data center's, `127.0.0.1:PORT`) that the nodes pull from.
 * The nodes live in the cluster's network namespace, where 127.0.0.1 is their own loopback: each
 * node's containerd gets a mirror for `host` pointing at `endpoint` (plain HTTP on the cluster's
 * host address, where the harness relays to the registry), so image refs stay the ones the
 * builder recorded.
 */
export interface RegistryMirror {
  /** As in image refs: 127.0.0.1:PORT or localhost:PORT. */
  readonly host: string;
  /** http://HOST-IP:PORT the nodes reach. */
  readonly endpoint: string;
}

/** Checks a loopback registry address (127.0.0.1:PORT or localhost:PORT) and returns its port. */
export function loopbackRegistryPort(host: string): number {
  const m = /^(127\.0\.0\.1|localhost):(\d{1,5})$/.exec(host);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535)
    throw new Error(`registry ${JSON.stringify(host)}: must be 127.0.0.1:PORT or localhost:PORT (a registry on this machine's loopback)`);
  return port;
}

/** containerd's config for one node: its own root, state, sockets and runc root, CRI tuned for this sandbox. */
export function renderContainerdConfig(options: { dir: string; cniConfDir: string; mirrors?: readonly RegistryMirror[] }): string {
  const d = options.dir;
  const mirrors = (options.mirrors ?? []).map((m) => {
    loopbackRegistryPort(m.host);
    if (!/^http:\/\/\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(m.endpoint)) throw new Error(`mirror endpoint ${JSON.stringify(m.endpoint)}: must be http://IP:PORT`);
    return `
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."${m.host}"]
    endpoint = ["${m.endpoint}"]
`;
  });
  return `version = 2
root = "${d}/root"
state = "${d}/state"
oom_score = 0

[grpc]
  address = "${d}/containerd.sock"

[ttrpc]
  address = "${d}/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "${d}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # This sandbox refuses negative oom_score_adj values: runc would fail every pod sandbox.
  restrict_oom_score_adj = true
  # Pod network namespaces under this node's state dir, not the host's /run/netns.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "${d}/runc"
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${options.cniConfDir}"
${mirrors.join('')}`;
}

/** The node's pod network: a bridge of its own (gateway on it) with host-local addresses from its pod CIDR. */
export function renderCniConflist(options: { node: number; bridge: string; podCidr: string; ipamDir: string }): string {
  return (
    JSON.stringify(
      {
        cniVersion: '0.4.0',
        name: `wharf-node-${options.node}`,
        plugins: [
          {
            type: 'bridge',
            bridge: options.bridge,
            isGateway: true,
            // No masquerade: the namespace has no way out, and pods need none (the network rule).
            ipMasq: false,
            hairpinMode: true,
            ipam: { type: 'host-local', ranges: [[{ subnet: options.podCidr }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: options.ipamDir },
          },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      },
      null,
      2,
    ) + '\n'
  );
}

export interface ApiserverFlags {
  etcdEndpoint: string;
  etcdCaFile: string;
  etcdCertFile: string;
  etcdKeyFile: string;
  bindAddress: string;
  securePort: number;
  certFile: string;
  keyFile: string;
  caFile: string;
  tokenFile: string;
  serviceAccountPublicKeyFile: string;
  serviceAccountPrivateKeyFile: string;
  serviceCidr: string;
  kubeletClientCertFile: string;
  kubeletClientKeyFile: string;
}

export function apiserverArgs(f: ApiserverFlags): string[] {
  return [
    `--etcd-servers=${f.etcdEndpoint}`,
    `--etcd-cafile=${f.etcdCaFile}`,
    `--etcd-certfile=${f.etcdCertFile}`,
    `--etcd-keyfile=${f.etcdKeyFile}`,
    // Not loopback: the `kubernetes` Service needs an endpoint that pods can reach.
    `--bind-address=${f.bindAddress}`,
    `--advertise-address=${f.bindAddress}`,
    `--secure-port=${f.securePort}`,
    '--insecure-port=0',
    `--tls-cert-file=${f.certFile}`,
    `--tls-private-key-file=${f.keyFile}`,
    `--client-ca-file=${f.caFile}`,
    `--token-auth-file=${f.tokenFile}`,
    '--authorization-mode=Node,RBAC',
    '--allow-privileged=true',
    `--service-account-key-file=${f.serviceAccountPublicKeyFile}`,
    `--service-account-signing-key-file=${f.serviceAccountPrivateKeyFile}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-cluster-ip-range=${f.serviceCidr}`,
    // Else the apiserver resolves node names through the machine's resolver (lookups leaving the machine).
    '--kubelet-preferred-address-types=InternalIP',
    `--kubelet-client-certificate=${f.kubeletClientCertFile}`,
    `--kubelet-client-key=${f.kubeletClientKeyFile}`,
    // Pods leave a dead node after 20 s instead of 5 minutes (node-manager's migration tests).
    '--default-not-ready-toleration-seconds=20',
    '--default-unreachable-toleration-seconds=20',
    '--profiling=false',
    '--v=0',
  ];
}

export function controllerManagerArgs(f: { kubeconfig: string; serviceAccountPrivateKeyFile: string; caFile: string }): string[] {
  return [
    `--kubeconfig=${f.kubeconfig}`,
    `--service-account-private-key-file=${f.serviceAccountPrivateKeyFile}`,
    // Without it no pod gets a service-account token.
    `--root-ca-file=${f.caFile}`,
    '--use-service-account-credentials=true',
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--port=0',
    '--secure-port=0',
    '--node-monitor-period=2s',
    '--node-monitor-grace-period=16s',
    // Claims of the StorageClass provisioner kubernetes.io/host-path get a directory under
    // /tmp/hostpath_provisioner (made by this process; every node is this machine): the only
    // provisioner 1.20 has without a cloud. stop() removes the directories.
    '--enable-hostpath-provisioner=true',
    '--profiling=false',
    '--v=0',
  ];
}

export function schedulerArgs(f: { kubeconfig: string }): string[] {
  return [`--kubeconfig=${f.kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1', '--port=0', '--secure-port=0', '--profiling=false', '--v=0'];
}

export interface KubeletFlags {
  name: string;
  ip: string;
  kubeconfig: string;
  rootDir: string;
  certDir: string;
  healthzPort: number;
  containerdSocket: string;
  podCidr: string;
  caFile: string;
  resolvConf: string;
}

export function kubeletArgs(f: KubeletFlags): string[] {
  return [
    `--kubeconfig=${f.kubeconfig}`,
    `--hostname-override=${f.name}`,
    `--node-ip=${f.ip}`,
    `--address=${f.ip}`,
    '--port=10250',
    `--healthz-port=${f.healthzPort}`,
    '--healthz-bind-address=127.0.0.1',
    '--read-only-port=0',
    `--root-dir=${f.rootDir}`,
    `--cert-dir=${f.certDir}`,
    // Only the apiserver (a client certificate of the cluster's CA) may call the kubelet.
    '--anonymous-auth=false',
    `--client-ca-file=${f.caFile}`,
    '--authorization-mode=AlwaysAllow',
    '--container-runtime=remote',
    `--container-runtime-endpoint=unix://${f.containerdSocket}`,
    '--runtime-request-timeout=2m',
    `--pod-infra-container-image=${PAUSE_IMAGE}`,
    '--image-pull-progress-deadline=30s',
    '--fail-swap-on=false',
    '--cgroup-driver=cgroupfs',
    '--cgroups-per-qos=false',
    '--enforce-node-allocatable=',
    // A shared machine's disk and memory are not this node's to evict for: only when nearly gone.
    '--eviction-hard=memory.available<50Mi,nodefs.available<1%,imagefs.available<1%',
    '--image-gc-high-threshold=100',
    '--image-gc-low-threshold=99',
    `--pod-cidr=${f.podCidr}`,
    '--node-status-update-frequency=4s',
    // Pods get no resolver: no name lookup may leave the machine (and the cluster has no DNS).
    `--resolv-conf=${f.resolvConf}`,
    '--v=0',
  ];
}

export function kubeProxyArgs(f: { kubeconfig: string; nodeName: string; clusterCidr: string }): string[] {
  return [
    `--kubeconfig=${f.kubeconfig}`,
    `--hostname-override=${f.nodeName}`,
    '--proxy-mode=iptables',
    `--cluster-cidr=${f.clusterCidr}`,
    '--healthz-bind-address=127.0.0.1:10256',
    '--metrics-bind-address=127.0.0.1:10249',
    // 0 = leave the machine's conntrack limits and timeouts as they are.
    '--conntrack-max-per-core=0',
    '--conntrack-tcp-timeout-established=0',
    '--conntrack-tcp-timeout-close-wait=0',
    '--v=0',
  ];
}

/** Where test clusters keep their slot pid files and the host's sysctls as the first cluster found them. */
export const CLUSTER_STATE_DIR = '/run/wharf-k8s';
export const SYSCTLS_RECORD_FILE = `${CLUSTER_STATE_DIR}/sysctls.json`;

/** Host sysctls the kubelet sets at start (--protect-kernel-defaults=false): recorded, then restored when the last cluster stops. */
export const KUBELET_HOST_SYSCTLS = [
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
] as const;

export function sysctlPath(name: string): string {
  if (!/^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(name)) throw new Error(`sysctl ${name}: not a sysctl name`);
  return `/proc/sys/${name.replace(/\./g, '/')}`;
}
