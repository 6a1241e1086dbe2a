import { existsSync, readFileSync } from 'node:fs';
import { dockerClient, httpTestImage } from './docker';
import { startKubernetesCluster, type KubernetesCluster } from './kubernetes-cluster';
import { waitFor } from './ports';

// Two nodes on one machine (node-manager's tests need them): each node's pods run on its own
// containerd, answer from the host, and keep their logs (the nodes' log dirs are their own).

const IMAGE = 'wharf-test/k8s-http:2';

async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: await res.text() };
}

interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string };
  status: { podIP?: string };
}

describe('startKubernetesCluster, two nodes', () => {
  let cluster: KubernetesCluster | undefined;

  beforeAll(async () => {
    await httpTestImage(dockerClient(), IMAGE, 'hello from either node');
    cluster = await startKubernetesCluster({ nodes: 2 });
    // One JSON line for the record (not asserted: times depend on the machine's load).
    console.log(JSON.stringify({ cluster: 'start', nodes: cluster.nodes.length, ...cluster.timings }));
    await cluster.importImage(IMAGE);
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 120_000);

  it('registers two Ready nodes with their own IPs and pod CIDRs', async () => {
    const c = cluster!;
    const nodes = JSON.parse(await c.kubectl(['get', 'nodes', '-o', 'json'])) as {
      items: { metadata: { name: string }; spec: { podCIDR: string }; status: { addresses: { type: string; address: string }[] } }[];
    };
    const seen = nodes.items.map((n) => ({
      name: n.metadata.name,
      podCidr: n.spec.podCIDR,
      ip: n.status.addresses.find((a) => a.type === 'InternalIP')?.address,
    }));
    expect(seen.sort((a, b) => a.name.localeCompare(b.name))).toEqual(c.nodes.map((n) => ({ name: n.name, podCidr: n.podCidr, ip: n.ip })));
    expect(new Set(c.nodes.map((n) => n.ip)).size).toBe(2);
  });

  it('spreads a 2-replica Deployment over both nodes; every pod answers from the host, through the Service, and keeps its log', async () => {
    const c = cluster!;
    const labels = { app: 'spread' };
    await c.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'spread', labels },
            spec: {
              replicas: 2,
              selector: { matchLabels: labels },
              template: {
                metadata: { labels },
                spec: {
                  affinity: {
                    podAntiAffinity: {
                      requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' }],
                    },
                  },
                  containers: [
                    {
                      name: 'web',
                      image: IMAGE,
                      imagePullPolicy: 'Never',
                      ports: [{ containerPort: 8080 }],
                      readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
                    },
                  ],
                },
              },
            },
          },
          { apiVersion: 'v1', kind: 'Service', metadata: { name: 'spread', labels }, spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] } },
        ],
      }),
    );
    await c.kubectl(['rollout', 'status', 'deployment/spread', '--timeout=60s']);
    const pods = (JSON.parse(await c.kubectl(['get', 'pods', '-l', 'app=spread', '-o', 'json'])) as { items: Pod[] }).items;
    expect(pods.map((p) => p.spec.nodeName).sort()).toEqual(['node-1', 'node-2']);
    for (const pod of pods) {
      const node = c.nodes.find((n) => n.name === pod.spec.nodeName)!;
      expect(pod.status.podIP?.startsWith(node.podCidr.split('.').slice(0, 3).join('.') + '.')).toBe(true);
      expect(await httpGet(`http://${pod.status.podIP}:8080/`)).toEqual({ status: 200, body: 'hello from either node' });
    }
    const clusterIp = (await c.kubectl(['get', 'service', 'spread', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    expect(await waitFor(`http://${clusterIp}/`, () => httpGet(`http://${clusterIp}/`).catch(() => undefined), 20_000, 200)).toEqual({
      status: 200,
      body: 'hello from either node',
    });
    // Each pod's log through its own kubelet: busybox httpd -v logs every request.
    for (const pod of pods) expect(await c.kubectl(['logs', pod.metadata.name])).toMatch(/response:200/);
  });

  it('a node whose kubelet is killed goes NotReady, and is Ready again once its kubelet restarts', async () => {
    const c = cluster!;
    const node2 = c.nodes[1];
    const ready = async () => {
      const node = (await c.api<{ status: { conditions: { type: string; status: string }[] } }>('GET', `/api/v1/nodes/${node2.name}`)).body;
      return node.status.conditions.find((x) => x.type === 'Ready')?.status;
    };
    await node2.stopKubelet();
    expect(node2.kubeletRunning()).toBe(false);
    // node-monitor-grace-period is 16 s.
    await waitFor(`${node2.name} NotReady`, async () => ((await ready()) !== 'True' ? true : undefined), 45_000, 500);
    expect(c.nodes[0].kubeletRunning()).toBe(true);
    await node2.startKubelet();
    await waitFor(`${node2.name} Ready again`, async () => ((await ready()) === 'True' ? true : undefined), 45_000, 500);
  }, 120_000);

  it('stop() ends the processes of both nodes (the restarted kubelet and the containers it adopted included) and removes the namespace', async () => {
    const c = cluster!;
    const pids = await c.processIds();
    await c.stop();
    cluster = undefined;
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
    expect(existsSync(`/run/netns/${c.host.netns}`)).toBe(false);
    expect(existsSync(c.host.dir)).toBe(false);
  }, 120_000);
});
