import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dockerClient, httpTestImage } from './docker';
import { KUBELET_HOST_SYSCTLS, SYSCTLS_RECORD_FILE, sysctlPath } from './kubernetes-cluster-config';
import { startKubernetesCluster, type KubernetesCluster } from './kubernetes-cluster';
import { waitFor } from './ports';

// A real one-node Kubernetes 1.20 cluster: a pod of a locally built image answers HTTP from the
// host on its pod IP and through its Service's ClusterIP (kube-proxy), and stop() leaves nothing.

const IMAGE = 'wharf-test/k8s-http:1';

function readSysctls(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of KUBELET_HOST_SYSCTLS) if (existsSync(sysctlPath(name))) values[name] = readFileSync(sysctlPath(name), 'utf8').trim();
  return values;
}

function otherClustersRunning(own?: string): boolean {
  const names = existsSync('/run/netns') ? execFileSync('ip', ['netns', 'list']).toString() : '';
  return names
    .split('\n')
    .map((l) => l.split(' ')[0])
    .some((n) => n.startsWith('wharf-k8s-') && n !== own);
}

async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: await res.text() };
}

function manifest(name: string, replicas: number): string {
  const labels = { app: name };
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, labels },
        spec: {
          replicas,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
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
      { apiVersion: 'v1', kind: 'Service', metadata: { name, labels }, spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] } },
    ],
  });
}

describe('startKubernetesCluster, one node', () => {
  let cluster: KubernetesCluster | undefined;
  let sysctlsBefore: Record<string, string>;

  beforeAll(async () => {
    // With another test cluster already running, the kubelet has changed the host's values; the
    // untouched ones are those the first cluster recorded (checked whenever this file runs alone).
    const alone = !otherClustersRunning();
    if (alone) sysctlsBefore = readSysctls();
    await httpTestImage(dockerClient(), IMAGE, 'hello from a pod');
    cluster = await startKubernetesCluster();
    if (!alone) sysctlsBefore = JSON.parse(readFileSync(SYSCTLS_RECORD_FILE, 'utf8')) as Record<string, string>;
    // One JSON line for the record (not asserted: times depend on the machine's load).
    console.log(JSON.stringify({ cluster: 'start', nodes: cluster.nodes.length, ...cluster.timings }));
    await cluster.importImage(IMAGE);
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 120_000);

  it('has one Ready node on its own node network, and the apiserver answers the admin token only', async () => {
    const c = cluster!;
    expect(c.nodes.map((n) => n.name)).toEqual(['node-1']);
    const nodes = JSON.parse(await c.kubectl(['get', 'nodes', '-o', 'json'])) as {
      items: { status: { addresses: { type: string; address: string }[]; nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string } } }[];
    };
    expect(nodes.items[0].status.addresses).toEqual(expect.arrayContaining([{ type: 'InternalIP', address: c.nodes[0].ip }]));
    expect(nodes.items[0].status.nodeInfo.kubeletVersion).toBe('v1.20.2');
    expect(nodes.items[0].status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
    await expect(c.kubectl(['--token=not-a-token', 'get', 'nodes'])).rejects.toThrow(/Unauthorized/);
    const { status } = await c.api('GET', '/api/v1/nodes');
    expect(status).toBe(200);
  });

  it('runs a Deployment whose pod answers HTTP from the host on its pod IP and on the Service ClusterIP', async () => {
    const c = cluster!;
    await c.kubectl(['apply', '-f', '-'], manifest('web', 1));
    await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    const podIp = (await c.kubectl(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].status.podIP}'])).trim();
    expect(podIp.startsWith(c.nodes[0].podCidr.split('.').slice(0, 3).join('.') + '.')).toBe(true);
    expect(await httpGet(`http://${podIp}:8080/`)).toEqual({ status: 200, body: 'hello from a pod' });

    const clusterIp = (await c.kubectl(['get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    expect(clusterIp.startsWith(c.serviceCidr.split('.').slice(0, 3).join('.') + '.')).toBe(true);
    // kube-proxy writes the Service's rules a moment after the endpoint is ready.
    const viaService = await waitFor(`http://${clusterIp}/`, () => httpGet(`http://${clusterIp}/`).catch(() => undefined), 20_000, 200);
    expect(viaService).toEqual({ status: 200, body: 'hello from a pod' });

    // The pod's own log is readable through the apiserver (apiserver -> kubelet with its client certificate).
    // busybox httpd -v logs every request it answered.
    expect(await c.kubectl(['logs', 'deployment/web'])).toMatch(/response:200/);
  });

  it('lets pods reach a Service ClusterIP and the apiserver through the kubernetes Service', async () => {
    const c = cluster!;
    const clusterIp = (await c.kubectl(['get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    const apiIp = (await c.kubectl(['get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    // busybox-static wget segfaults in pods: nc speaks the HTTP by hand.
    const script = [
      `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${clusterIp} 80`,
      `if nc -w 5 ${apiIp} 443 </dev/null; then echo api-open; else echo api-closed; fi`,
    ].join('; ');
    await c.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'client' },
        spec: { restartPolicy: 'Never', containers: [{ name: 'client', image: IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', script] }] },
      }),
    );
    const phase = await waitFor(
      'the client pod to finish',
      async () => {
        const p = (await c.kubectl(['get', 'pod', 'client', '-o', 'jsonpath={.status.phase}'])).trim();
        return p === 'Succeeded' || p === 'Failed' ? p : undefined;
      },
      60_000,
      500,
    );
    const log = await c.kubectl(['logs', 'client']);
    expect({ phase, answered: log.includes('hello from a pod'), api: /api-open/.test(log) }).toEqual({ phase: 'Succeeded', answered: true, api: true });
  });

  it('fails a pod whose image is not imported with an image pull error, and pulls nothing from outside', async () => {
    const c = cluster!;
    await c.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'absent' },
        spec: { containers: [{ name: 'absent', image: 'wharf-test/not-imported:1', imagePullPolicy: 'IfNotPresent' }] },
      }),
    );
    const reason = await waitFor(
      'an image pull error',
      async () => {
        const r = (await c.kubectl(['get', 'pod', 'absent', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason}'])).trim();
        return /ErrImagePull|ImagePullBackOff/.test(r) ? r : undefined;
      },
      60_000,
      500,
    );
    expect(reason).toMatch(/ErrImagePull|ImagePullBackOff/);
    const message = (await c.kubectl(['get', 'pod', 'absent', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.message}'])).trim();
    expect(message).toContain('wharf-test/not-imported:1');
    // The node's only resolver is its own loopback (an empty resolv.conf in its mount namespace).
    expect(message).toMatch(/lookup registry-1\.docker\.io on (\[::1\]|127\.0\.0\.1):53/);
    await c.kubectl(['delete', 'pod', 'absent', '--grace-period=0', '--force']);
  });

  it('stop() ends every process it started and removes its namespace, link, temp dir and sysctl changes', async () => {
    const c = cluster!;
    const pids = await c.processIds();
    expect(pids.length).toBeGreaterThan(5); // apiserver, controller-manager, scheduler, kube-proxy, kubelet, containerd, shims, containers
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
    expect(existsSync(`/sys/class/net/${c.host.hostLink}`)).toBe(false);
    expect(existsSync(c.host.dir)).toBe(false);
    expect(execFileSync('ip', ['route']).toString()).not.toContain(c.clusterCidr);
    // The kubelet's host-wide sysctls come back once no other test cluster runs.
    if (!otherClustersRunning(c.host.netns)) expect(readSysctls()).toEqual(sysctlsBefore);
  }, 120_000);
});
