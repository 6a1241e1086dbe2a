import { buildTestImage, dockerClient, httpTestImage, startKubernetesCluster, waitFor, type KubernetesCluster } from '@wharf/testing';
import { answers, createComponent, endpointsOf, enqueue, finalStatus, recordVersion, startStack, statusOf, type Stack } from '../test/harness';

// app-manager as a real process with WHARF_RUNTIME=kubernetes against a real one-node
// Kubernetes 1.20 cluster (and real etcd, mq, event-log): the cluster rolls out, app-manager
// follows the pods and decides each operation's end; a failed upgrade is rolled back.
describe('app-manager lifecycle on Kubernetes', () => {
  let s: Stack | undefined;
  let cluster: KubernetesCluster | undefined;
  const docker = dockerClient();
  const image = (v: string) => `wharf-test/am-k8s-${process.pid}-web:${v}`;
  const http = { ports: [{ port: 8080, protocol: 'http' }], probe: { kind: 'http', path: '/', port: 8080, periodS: 1, failureThreshold: 2 } };
  const id = 'acme.shop.web';
  type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const deployments = async () => {
    const ns = (await cluster!.api<Json>('GET', '/api/v1/namespaces')).body.items.map((n: Json) => n.metadata.name).find((n: string) => n === 'wharf-acme');
    return ns ? ((await cluster!.api<Json>('GET', `/apis/apps/v1/namespaces/${ns}/deployments`)).body.items as Json[]) : [];
  };

  beforeAll(async () => {
    await httpTestImage(docker, image('1'), 'version one');
    await httpTestImage(docker, image('2'), 'version two');
    await buildTestImage(docker, image('crash'), { cmd: ['sh', '-c', 'echo starting; echo boom; exit 3'] });
    cluster = await startKubernetesCluster();
    for (const v of ['1', '2', 'crash']) await cluster.importImage(image(v));
    s = await startStack('k8s', { WHARF_RUNTIME: 'kubernetes', WHARF_KUBECONFIG: cluster.kubeconfigPath, WHARF_APPMGR_PROGRESS_DEADLINE_MS: '90000' });
  }, 300_000);
  afterAll(async () => {
    await s?.stop();
    await cluster?.stop();
    for (const v of ['1', '2', 'crash'])
      await docker
        .getImage(image(v))
        .remove({ force: true })
        .catch(() => undefined);
  }, 120_000);

  it('deploys a version to N pods that answer HTTP, with a timeline and a status read from the pods', async () => {
    await createComponent(s!, { tenant: 'acme', name: 'web' }, { ...http, replicas: 2 }, [{ id: 'v1', image: image('1') }]);
    const final = await finalStatus(s!, await enqueue(s!, 'deploy', id), 120_000);
    expect(final.status).toBe('success');
    expect(final.lines.join('\n')).toMatch(/applied Deployment of v1 .*: 2 replica\(s\)/);
    expect(await answers(s!, id)).toEqual(['version one', 'version one']);
    const status = await waitFor('running status', async () => ((await statusOf(s!, id))?.state === 'running' ? statusOf(s!, id) : undefined));
    expect(status).toMatchObject({ versionId: 'v1', desiredReplicas: 2, readyReplicas: 2, runtime: 'kubernetes' });
    expect(status!.replicas.map((r) => [r.state, r.node])).toEqual([
      ['ready', 'node-1'],
      ['ready', 'node-1'],
    ]);
    expect((await deployments()).map((d) => d.spec.replicas)).toEqual([2]);
  }, 180_000);

  it('scales, stops (replicas 0) and starts through the Deployment', async () => {
    expect((await finalStatus(s!, await enqueue(s!, 'scale', id, { replicas: 3 }), 120_000)).status).toBe('success');
    expect(await answers(s!, id)).toHaveLength(3);
    expect((await finalStatus(s!, await enqueue(s!, 'stop', id), 120_000)).status).toBe('success');
    expect((await endpointsOf(s!, id))?.endpoints).toEqual([]);
    expect((await deployments()).map((d) => d.spec.replicas)).toEqual([0]);
    expect((await statusOf(s!, id))?.state).toBe('stopped');
    expect((await finalStatus(s!, await enqueue(s!, 'start', id), 120_000)).status).toBe('success');
    expect(await answers(s!, id)).toEqual(['version one', 'version one', 'version one']);
  }, 240_000);

  it("upgrades through the rolling update, and rolls a failed upgrade back with the pod's reason", async () => {
    await recordVersion(s!, id, 'v2', image('2'));
    const up = await finalStatus(s!, await enqueue(s!, 'upgrade', id, { versionId: 'v2' }), 120_000);
    expect(up.status).toBe('success');
    await waitFor('only v2 answers', async () => ((await answers(s!, id)).join() === 'version two,version two,version two' ? true : undefined), 30_000);

    await recordVersion(s!, id, 'v3', image('crash'));
    const bad = await finalStatus(s!, await enqueue(s!, 'upgrade', id, { versionId: 'v3' }), 180_000);
    expect(bad.status).toBe('failure');
    // The pod's own words: its first crash (exit code and last lines), before any back-off.
    expect(bad.message).toMatch(/replica shop-web-\S+ \(v3\) crashed: exited with code 3; last lines: starting \| boom/);
    expect(bad.lines.join('\n')).toMatch(/rollout failed: .*restoring v2/);
    // The previous release runs again: every pod of v2, answering.
    await waitFor('v2 restored', async () => ((await answers(s!, id)).join() === 'version two,version two,version two' ? true : undefined), 60_000);
    expect((await statusOf(s!, id))?.versionId).toBe('v2');
    const d = (await deployments())[0];
    expect(d.spec.template.spec.containers[0].image).toBe(image('2'));
  }, 300_000);

  it('deletes a component: its Deployment, Service and endpoints go', async () => {
    const started = Date.now();
    expect((await finalStatus(s!, await enqueue(s!, 'delete', id), 120_000)).status).toBe('success');
    expect(await deployments()).toEqual([]);
    expect(await endpointsOf(s!, id)).toBeUndefined();
    process.stdout.write(`${JSON.stringify({ measure: 'k8s-delete', ms: Date.now() - started })}\n`);
  }, 180_000);
});
