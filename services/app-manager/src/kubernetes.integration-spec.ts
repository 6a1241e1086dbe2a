import { buildTestImage, dockerClient, httpTestImage, waitFor } from '@wharf/testing';
import { appManagerBehaviour } from '../test/behaviour';
import { answers, createComponent, enqueue, finalStatus, startStack, statusOf, type Stack } from '../test/harness';
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
