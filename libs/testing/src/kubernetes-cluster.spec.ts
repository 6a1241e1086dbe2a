import { startKubernetesCluster } from './kubernetes-cluster';

// Bad input is refused before anything is set up (no namespace, no process, no temp dir).
describe('startKubernetesCluster, bad input', () => {
  const saved = process.env.WHARF_KUBERNETES_BIN_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.WHARF_KUBERNETES_BIN_DIR;
    else process.env.WHARF_KUBERNETES_BIN_DIR = saved;
  });

  it('refuses a node count other than 1 or 2', async () => {
    await expect(startKubernetesCluster({ nodes: 3 as 2 })).rejects.toThrow('nodes: 3: must be 1 or 2');
    await expect(startKubernetesCluster({ nodes: 0 as 1 })).rejects.toThrow('nodes: 0: must be 1 or 2');
  });

  it('names the missing binaries and the script that builds them', async () => {
    process.env.WHARF_KUBERNETES_BIN_DIR = '/nonexistent/wharf-k8s-bin';
    await expect(startKubernetesCluster()).rejects.toThrow(
      'Kubernetes binaries missing in /nonexistent/wharf-k8s-bin (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl): run scripts/kubernetes/build-binaries.sh',
    );
  });
});
