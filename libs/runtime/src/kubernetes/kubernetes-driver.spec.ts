import { UnavailableError } from '@wharf/errors';
import { ReplicaCreateError } from '../runtime-driver';
import { clientNode } from './client-node';
import { KubernetesDriver } from './kubernetes-driver';

/** A kubeconfig pointing at a closed port on 127.0.0.1: the driver's transport without a cluster. */
function nowhere() {
  const kc = new (clientNode().KubeConfig)();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'http://127.0.0.1:9', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return new KubernetesDriver({ dataCenter: 'dc1', kubeConfig: kc });
}

describe('KubernetesDriver (no cluster)', () => {
  it('loads @kubernetes/client-node (an ES module) and says the runtime rolls out itself', () => {
    const d = nowhere();
    expect(d.kind).toBe('kubernetes');
    expect(d.capabilities).toEqual({ probes: 'runtime', rollout: 'runtime' });
  });

  it('reports an API server it cannot reach as unavailable, naming the call', async () => {
    await expect(nowhere().ping()).rejects.toBeInstanceOf(UnavailableError);
    await expect(nowhere().listReplicas()).rejects.toThrow(/Kubernetes API unreachable \(pods\)/);
  });

  it("refuses single replicas with a reason, and another data center's workload", async () => {
    const d = nowhere();
    const err = await d
      .createReplica({
        labels: { dataCenter: 'dc1', tenantId: 't', appId: 'a', componentId: 'c', versionId: 'v', slot: 1, template: 'ab', restarts: 0 },
      } as never)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicaCreateError);
    expect((err as Error).message).toMatch(/rolls out whole workloads/);
    await expect(d.applyWorkload({ template: { labels: { dataCenter: 'dc2' } } } as never)).rejects.toThrow(
      /workload of data center dc2 given to the driver of dc1/,
    );
  });

  it('refuses a bad name prefix', () => {
    expect(() => new KubernetesDriver({ dataCenter: 'dc1', namePrefix: 'Bad_Prefix', kubeConfig: new (clientNode().KubeConfig)() })).toThrow(/name prefix/);
  });
});
