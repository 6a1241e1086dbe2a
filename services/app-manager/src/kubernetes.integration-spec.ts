import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { buildTestImage, dockerClient, httpTestImage, startLbManager, viaGateway, waitFor, type RunningLbManager } from '@wharf/testing';
import { appManagerBehaviour } from '../test/behaviour';
import { answers, createComponent, endpointsOf, enqueue, finalStatus, startStack, statusOf, type Stack } from '../test/harness';
import { kubernetesRuntime } from '../test/runtime-fixture';

// app-manager as a real process with WHARF_RUNTIME=kubernetes against one real Kubernetes 1.20
// cluster for the whole file (started once here): the behaviour suite the Docker runtime runs
// too, then what only a runtime that rolls out by itself has to survive.
const k8s = kubernetesRuntime();
beforeAll(() => k8s.start(), 300_000);
afterAll(() => k8s.stop(), 120_000);

appManagerBehaviour(k8s);

describe('app-manager killed with SIGKILL during a Kubernetes rollout', () => {
  let s: Stack;
  const docker = dockerClient();
  const tag = (v: string) => `wharf-test/am-${process.pid}-k8s-kill9-${v}:1`;

  beforeAll(async () => {
    await httpTestImage(docker, tag('v1'), 'version one');
    // Slow to listen, so a rollout of three lasts long enough to be interrupted.
    await buildTestImage(docker, tag('v2'), { files: { 'www/index.html': 'version two' }, cmd: ['sh', '-c', 'sleep 3; exec httpd -f -p 8080 -h /www'] });
    await buildTestImage(docker, tag('crash'), { cmd: ['sh', '-c', 'sleep 2; echo boom; exit 3'] });
    await k8s.provide([tag('v1'), tag('v2'), tag('crash')]);
    s = await startStack('k8s-kill9', { ...k8s.env(), WHARF_APPMGR_PROGRESS_DEADLINE_MS: '90000' });
  }, 300_000);
  afterAll(async () => {
    await s?.stop();
    for (const v of ['v1', 'v2', 'crash'])
      await docker
        .getImage(tag(v))
        .remove({ force: true })
        .catch(() => undefined);
  }, 120_000);

  it("finishes the operation after its restart, and the cluster's objects match what the API shows", async () => {
    const id = await createComponent(
      s,
      { tenant: 'acme', name: 'web' },
      { replicas: 3, ports: [{ port: 8080, protocol: 'http' }], probe: { kind: 'http', path: '/', port: 8080, periodS: 1, failureThreshold: 3 } },
      [
        { id: 'v1', image: tag('v1') },
        { id: 'v2', image: tag('v2') },
      ],
    );
    expect((await finalStatus(s, await enqueue(s, 'deploy', id, { versionId: 'v1' }), 120_000)).status).toBe('success');
    const eventId = await enqueue(s, 'upgrade', id, { versionId: 'v2' });
    // Killed once the cluster has the new template and the old pods still serve.
    await waitFor(
      'the rollout under way',
      async () => {
        const w = await k8s.workload(s, id);
        return w.images.join() === tag('v2') && w.versions.includes('v1') ? true : undefined;
      },
      60_000,
      100,
    );
    await s.appManagers[0].stop('SIGKILL');
    expect((await k8s.workload(s, id)).versions).toContain('v1'); // really interrupted halfway
    await s.startAppManager();

    const final = await finalStatus(s, eventId, 120_000);
    expect(final.status).toBe('success');
    // The pods of v1 may still be terminating once the rollout is done; they show as stopping until gone.
    const status = await waitFor('the status of v2', async () => {
      const st = await statusOf(s, id);
      return st?.state === 'running' && st.versionId === 'v2' && st.replicas.length === 3 ? st : undefined;
    });
    const inCluster = await waitFor('only v2 pods', async () => {
      const w = await k8s.workload(s, id);
      return w.versions.every((v) => v === 'v2') ? w : undefined;
    });
    // What app-manager publishes (the API's status), the event store and the cluster agree.
    expect(status).toMatchObject({ desiredReplicas: 3, readyReplicas: 3 });
    expect(status.replicas.map((r) => [r.state, r.node])).toEqual(Array(3).fill(['ready', 'node-1']));
    expect(inCluster).toEqual({ exists: true, replicas: 3, images: [tag('v2')], versions: ['v2', 'v2', 'v2'] });
    expect(await answers(s, id)).toEqual(Array(3).fill('version two'));
    const history = (await s.store.read(`component/${id}`)).filter((e) => e.eventId === eventId);
    expect(history.filter((e) => e.type === 'wharf.events.v1.OperationApplied')).toHaveLength(1);
    expect(history.filter((e) => e.type === 'wharf.events.v1.VersionDeployed')).toHaveLength(1);
  }, 300_000);

  it('rolls a failing rollout back after its restart: the operation fails with the reason, the cluster runs the previous version', async () => {
    const id = await createComponent(
      s,
      { tenant: 'acme', name: 'bad' },
      { replicas: 2, ports: [{ port: 8080, protocol: 'http' }], probe: { kind: 'http', path: '/', port: 8080, periodS: 1, failureThreshold: 3 } },
      [
        { id: 'v1', image: tag('v1') },
        { id: 'v2', image: tag('crash') },
      ],
    );
    expect((await finalStatus(s, await enqueue(s, 'deploy', id, { versionId: 'v1' }), 120_000)).status).toBe('success');
    const eventId = await enqueue(s, 'upgrade', id, { versionId: 'v2' });
    await waitFor('the failing template applied', async () => ((await k8s.workload(s, id)).images.join() === tag('crash') ? true : undefined), 60_000, 100);
    await s.appManagers[s.appManagers.length - 1].stop('SIGKILL');
    await s.startAppManager();

    const final = await finalStatus(s, eventId, 180_000);
    expect(final).toMatchObject({ status: 'failure', failedStep: 'upgrade' });
    // Its exit code. Not its last lines: by the time the new instance reads them the kubelet may
    // have restarted the container, and the log read is then the new run's (empty so far).
    expect(final.message).toMatch(/\(v2\) crashed: .*exited with code 3/);
    const inCluster = await waitFor(
      'v1 back in the cluster',
      async () => {
        const w = await k8s.workload(s, id);
        return w.images.join() === tag('v1') && w.versions.join() === 'v1,v1' ? w : undefined;
      },
      60_000,
      200,
    );
    expect(inCluster.replicas).toBe(2);
    expect(await statusOf(s, id)).toMatchObject({ versionId: 'v1', desiredReplicas: 2, readyReplicas: 2 });
    expect(await answers(s, id)).toEqual(['version one', 'version one']);
    const history = (await s.store.read(`component/${id}`)).filter((e) => e.eventId === eventId);
    expect(history.filter((e) => e.type === 'wharf.events.v1.OperationApplied')).toHaveLength(1);
    expect(history.filter((e) => e.type === 'wharf.events.v1.VersionDeployed')).toHaveLength(0);
  }, 300_000);
});

describe("endpoints on Kubernetes: the ready addresses of the component's EndpointSlices", () => {
  let s: Stack;
  let lb: RunningLbManager | undefined;
  const docker = dockerClient();
  const tag = `wharf-test/am-${process.pid}-k8s-eps:1`;
  const host = 'eps.example.test';
  let id = '';

  beforeAll(async () => {
    await httpTestImage(docker, tag, 'endpoint');
    await k8s.provide([tag]);
    s = await startStack('k8s-eps', { ...k8s.env(), WHARF_APPMGR_PROGRESS_DEADLINE_MS: '90000' });
    // lb-manager follows the same etcd: names from the tenant and app streams, the route from the component's.
    await s.store.append('tenant/acme', [{ message: create(eventsV1.TenantCreatedSchema, { tenantId: 'acme', name: 'acme' }) }], 0);
    await s.store.append('app/acme.shop', [{ message: create(eventsV1.AppCreatedSchema, { appId: 'acme.shop', tenantId: 'acme', name: 'shop' }) }], 0);
    lb = await startLbManager(s.etcd);
  }, 300_000);
  afterAll(async () => {
    await lb?.stop();
    await s?.stop();
    await docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => undefined);
  }, 120_000);

  /** What app-manager published for lb-manager, sorted by address. */
  const published = async () =>
    ((await endpointsOf(s, id))?.endpoints ?? [])
      .map((e) => ({ replica: e.replica, address: e.address, versionId: e.versionId }))
      .sort((a, b) => a.address.localeCompare(b.address));
  /** The endpoints the Service's slices list as ready, in the same shape. */
  const inService = async () =>
    (await k8s.serviceEndpoints(s, id)).filter((e) => e.ready).map(({ replica, address, versionId }) => ({ replica, address, versionId }));
  /** Waits until the published endpoints are the Service's ready ones, `n` of them. */
  const publishedAsService = (n: number, what: string) =>
    waitFor(
      what,
      async () => {
        const [mine, theirs] = [await published(), await inService()];
        return mine.length === n && JSON.stringify(mine) === JSON.stringify(theirs) ? mine : undefined;
      },
      30_000,
      100,
    );

  it("publishes a deployed component's endpoints as its Service's EndpointSlices list them, and does not end the operation before they do", async () => {
    id = await createComponent(
      s,
      { tenant: 'acme', name: 'eps' },
      {
        replicas: 1,
        ports: [{ port: 8080, protocol: 'http', public: true }],
        routes: [{ host, pathPrefix: '/', port: 8080 }],
        // Ten failures in a row make it unready, twenty restart it (app-manager's liveness is twice its probe's
        // threshold): ten seconds in which the Service lists a pod as not ready.
        probe: { kind: 'http', path: '/', port: 8080, periodS: 1, failureThreshold: 10 },
      },
      [{ id: 'v1', image: tag }],
    );
    expect((await finalStatus(s, await enqueue(s, 'deploy', id), 120_000)).status).toBe('success');
    // The operation ended: the Service already routes to the pod.
    expect(await inService()).toHaveLength(1);
    const [ep] = await publishedAsService(1, "the published endpoint = the Service's ready one");
    expect(ep).toMatchObject({ versionId: 'v1', replica: expect.stringMatching(/^shop-eps-/) });
    expect((await k8s.driver(s).listReplicas({ componentId: id })).map((r) => [r.name, r.address])).toContainEqual([ep.replica, ep.address]);
  }, 180_000);

  it('after a scale 1 -> 3, publishes the 3 ready pod addresses of the Service, and lb-manager (real nginx) routes through them', async () => {
    const [running] = await published();
    expect((await finalStatus(s, await enqueue(s, 'scale', id, { replicas: 3 }), 120_000)).status).toBe('success');
    const ready = (await inService()).filter((e) => e.versionId === 'v1');
    expect(ready).toHaveLength(3);
    const eps = await publishedAsService(3, "3 published endpoints = the Service's 3 ready ones");
    expect(new Set(eps.map((e) => e.replica)).size).toBe(3);
    // A scale adds pods: the one that was running stays (the pod template did not change).
    expect(eps.map((e) => e.replica)).toContain(running.replica);
    // nginx's upstream for the route is those pod addresses (reached from the host on the cluster's pod network).
    const upstream = await waitFor(
      "lb-manager's upstream of the route",
      async () => {
        const r = (await lb!.routes()).http.find((x) => x.host === host);
        return r && r.peers.length === 3 ? r : undefined;
      },
      30_000,
      100,
    );
    expect([...upstream.peers].sort()).toEqual(eps.map((e) => `${e.address}:8080`).sort());
    for (let i = 0; i < 6; i++) {
      const r = await viaGateway(lb!.httpPort, host, '/');
      expect([r.status, r.body.trim()]).toEqual([200, 'endpoint']);
    }
  }, 180_000);

  it('drops a pod that fails its readiness probe from the endpoints (and from nginx) as its Service does, and takes it back once it passes again', async () => {
    const before = await published();
    const victim = before[0];
    const pod = (await k8s.driver(s).listReplicas({ componentId: id })).find((r) => r.name === victim.replica)!;
    // Its probe (GET /) now answers 404; the kubelet marks it unready, then restarts its container (a fresh file system).
    expect((await k8s.driver(s).exec(pod.id, ['rm', '/www/index.html'], { timeoutMs: 10_000 })).exitCode).toBe(0);
    const out = await waitFor(
      'the unready pod out of the endpoints',
      async () => {
        const [mine, all] = [await published(), await k8s.serviceEndpoints(s, id)];
        const listed = all.find((e) => e.replica === victim.replica);
        const theirs = all.filter((e) => e.ready).map(({ replica, address, versionId }) => ({ replica, address, versionId }));
        return listed && !listed.ready && JSON.stringify(mine) === JSON.stringify(theirs) ? mine : undefined;
      },
      60_000,
      100,
    );
    expect(out).toHaveLength(2);
    expect(out.map((e) => e.address)).not.toContain(victim.address);
    const peers = await waitFor(
      'nginx without it',
      async () => {
        const r = (await lb!.routes()).http.find((x) => x.host === host);
        return r && r.peers.length === 2 ? r.peers : undefined;
      },
      30_000,
      100,
    );
    expect(peers).not.toContain(`${victim.address}:8080`);
    for (let i = 0; i < 6; i++) expect((await viaGateway(lb!.httpPort, host, '/')).status).toBe(200);
    // Restarted by its liveness probe: ready again in its Service, so in the endpoints again.
    const back = await publishedAsService(3, 'the restarted pod back in the endpoints');
    expect(back.map((e) => e.address)).toContain(victim.address);
  }, 180_000);
});
