import {
  apiserverArgs,
  CLUSTER_SLOTS,
  clusterNetwork,
  kubeletArgs,
  kubernetesBinDir,
  loopbackRegistryPort,
  nodeName,
  renderCniConflist,
  renderContainerdConfig,
  renderKubeconfig,
  renderTokenFile,
  sysctlPath,
} from './kubernetes-cluster-config';

function inRange(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = (a: string) => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
}

describe('clusterNetwork', () => {
  it('gives every slot node, pod and Service ranges that no other slot overlaps', () => {
    const ranges: string[] = [];
    for (let s = 0; s < CLUSTER_SLOTS; s++) {
      const net = clusterNetwork(s);
      ranges.push(net.nodeNetwork, net.clusterCidr, net.serviceCidr);
    }
    const overlapping: string[] = [];
    for (const a of ranges) for (const b of ranges) if (a !== b && (inRange(a.split('/')[0], b) || inRange(b.split('/')[0], a))) overlapping.push(`${a} ${b}`);
    expect(overlapping).toEqual([]);
    expect(new Set(ranges).size).toBe(ranges.length);
  });

  it('places node IPs and the host end on the node network and pod CIDRs inside the cluster CIDR', () => {
    const net = clusterNetwork(7);
    expect(net.nodeIp(1)).toBe('10.250.7.1');
    expect(net.nodeIp(2)).toBe('10.250.7.2');
    expect(net.hostIp).toBe('10.250.7.254');
    expect(inRange(net.podCidr(2).split('/')[0], net.clusterCidr)).toBe(true);
    expect(inRange(net.apiServiceIp, net.serviceCidr)).toBe(true);
    expect(net.hostLink.length).toBeLessThanOrEqual(15); // IFNAMSIZ
  });

  it('refuses slots and nodes out of range', () => {
    expect(() => clusterNetwork(CLUSTER_SLOTS)).toThrow(/slot 64: must be an integer 0..63/);
    expect(() => clusterNetwork(-1)).toThrow(/slot -1/);
    expect(() => clusterNetwork(0).nodeIp(3)).toThrow(/node 3: must be 1..2/);
    expect(() => nodeName(0)).toThrow(/node 0/);
  });
});

describe('renderTokenFile', () => {
  it('writes token,user,uid,"groups" lines', () => {
    expect(
      renderTokenFile([
        { token: 'abc123', user: 'wharf-test-admin', groups: ['system:masters'] },
        { token: 'def', user: 'system:kube-scheduler', groups: [] },
      ]),
    ).toBe('abc123,wharf-test-admin,wharf-test-admin,"system:masters"\ndef,system:kube-scheduler,system:kube-scheduler\n');
  });

  it('refuses what would break the CSV', () => {
    expect(() => renderTokenFile([{ token: 'a,b', user: 'u', groups: [] }])).toThrow(/token of u: must be alphanumeric/);
    expect(() => renderTokenFile([{ token: 'a', user: 'u"x', groups: [] }])).toThrow(/commas or quotes/);
  });
});

describe('rendered files', () => {
  it('a kubeconfig carries the server, the CA and the token', () => {
    const cfg = JSON.parse(renderKubeconfig({ server: 'https://10.250.0.254:6443', caPem: 'PEM', user: 'u', token: 't' }));
    expect(cfg.clusters[0].cluster).toEqual({ server: 'https://10.250.0.254:6443', 'certificate-authority-data': Buffer.from('PEM').toString('base64') });
    expect(cfg.users[0].user).toEqual({ token: 't' });
    expect(cfg['current-context']).toBe('wharf-test');
  });

  it('containerd keeps everything under its node dir and restricts oom scores', () => {
    const toml = renderContainerdConfig({ dir: '/tmp/x/node-1', cniConfDir: '/tmp/x/node-1/cni' });
    for (const line of [
      'root = "/tmp/x/node-1/root"',
      'state = "/tmp/x/node-1/state"',
      'address = "/tmp/x/node-1/containerd.sock"',
      'Root = "/tmp/x/node-1/runc"',
      'conf_dir = "/tmp/x/node-1/cni"',
      'restrict_oom_score_adj = true',
    ])
      expect(toml).toContain(line);
  });

  it('maps a loopback registry to the endpoint the nodes reach, and refuses any other registry', () => {
    const toml = renderContainerdConfig({
      dir: '/tmp/x/node-1',
      cniConfDir: '/tmp/x/node-1/cni',
      mirrors: [{ host: '127.0.0.1:32500', endpoint: 'http://10.250.3.254:32500' }],
    });
    expect(toml).toContain('[plugins."io.containerd.grpc.v1.cri".registry.mirrors."127.0.0.1:32500"]\n    endpoint = ["http://10.250.3.254:32500"]');
    expect(renderContainerdConfig({ dir: '/d', cniConfDir: '/c' })).not.toContain('registry.mirrors');
    expect(loopbackRegistryPort('localhost:5000')).toBe(5000);
    for (const bad of ['registry.example.com:5000', '10.0.0.1:5000', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:99999', '127.0.0.1:1"]'])
      expect(() => loopbackRegistryPort(bad)).toThrow(/must be 127.0.0.1:PORT/);
    expect(() => renderContainerdConfig({ dir: '/d', cniConfDir: '/c', mirrors: [{ host: '127.0.0.1:1', endpoint: 'http://x"]:1' }] })).toThrow(/must be http/);
  });

  it('the CNI conflist uses the node bridge, pod CIDR and its own IPAM dir', () => {
    const c = JSON.parse(renderCniConflist({ node: 2, bridge: 'cni2', podCidr: '10.130.2.0/24', ipamDir: '/d' }));
    expect(c.plugins[0]).toMatchObject({
      type: 'bridge',
      bridge: 'cni2',
      isGateway: true,
      ipMasq: false,
      ipam: { ranges: [[{ subnet: '10.130.2.0/24' }]], dataDir: '/d' },
    });
  });
});

describe('component flags', () => {
  it('the apiserver advertises a non-loopback address, has no insecure port, and resolves kubelets by IP', () => {
    const args = apiserverArgs({
      etcdEndpoint: 'https://127.0.0.1:1',
      etcdCaFile: 'c',
      etcdCertFile: 'c',
      etcdKeyFile: 'k',
      bindAddress: '10.250.0.254',
      securePort: 1234,
      certFile: 'c',
      keyFile: 'k',
      caFile: 'ca',
      tokenFile: 't',
      serviceAccountPublicKeyFile: 'p',
      serviceAccountPrivateKeyFile: 's',
      serviceCidr: '10.96.0.0/24',
      kubeletClientCertFile: 'kc',
      kubeletClientKeyFile: 'kk',
    });
    expect(args).toEqual(
      expect.arrayContaining([
        '--advertise-address=10.250.0.254',
        '--insecure-port=0',
        '--kubelet-preferred-address-types=InternalIP',
        '--authorization-mode=Node,RBAC',
      ]),
    );
  });

  it('the kubelet uses containerd through CRI and refuses anonymous calls', () => {
    const args = kubeletArgs({
      name: 'node-2',
      ip: '10.250.0.2',
      kubeconfig: 'k',
      rootDir: 'r',
      certDir: 'c',
      healthzPort: 10242,
      containerdSocket: '/s.sock',
      podCidr: '10.128.2.0/24',
      caFile: 'ca',
      resolvConf: 'rc',
    });
    expect(args).toEqual(
      expect.arrayContaining([
        '--container-runtime=remote',
        '--container-runtime-endpoint=unix:///s.sock',
        '--anonymous-auth=false',
        '--hostname-override=node-2',
        '--node-ip=10.250.0.2',
      ]),
    );
  });
});

describe('helpers', () => {
  it('kubernetesBinDir follows WHARF_KUBERNETES_BIN_DIR, then WHARF_CACHE_DIR', () => {
    expect(kubernetesBinDir({ WHARF_KUBERNETES_BIN_DIR: '/b' })).toBe('/b');
    expect(kubernetesBinDir({ WHARF_CACHE_DIR: '/c' })).toBe('/c/kubernetes/1.20.2/bin');
    expect(kubernetesBinDir({})).toBe('/var/cache/wharf/kubernetes/1.20.2/bin');
  });

  it('sysctlPath maps names and refuses paths', () => {
    expect(sysctlPath('vm.overcommit_memory')).toBe('/proc/sys/vm/overcommit_memory');
    expect(() => sysctlPath('../etc/passwd')).toThrow(/not a sysctl name/);
  });
});
