import { create } from '@bufbuild/protobuf';
import { appmanagerV1, mqV1 } from '@wharf/contracts';
import { createClient, InvalidArgumentError, NotFoundError } from '@wharf/grpc';
import { buildTestImage, clientSecurity, dockerClient, freePort, httpTestImage, waitFor } from '@wharf/testing';
import {
  answers,
  createComponent,
  endpointsOf,
  enqueue,
  finalStatus,
  recordVersion,
  startStack,
  statusOf,
  updateSpec,
  type SpecInit,
  type Stack,
} from './harness';
import type { RuntimeFixture } from './runtime-fixture';

/**
 * app-manager's behaviour, written once and run against every runtime driver: a real
 * app-manager process takes its tasks from mq as in production (real etcd, mq, event-log), and
 * each test checks the operation's final status in event-log, what the replicas answer over
 * HTTP, the status app-manager publishes, and what the runtime itself holds (read through the
 * fixture, not through app-manager). The tests of one file run in order on one component where
 * that saves a rollout. The runtime must be started (fixture.start) by the calling file.
 */
export function appManagerBehaviour(f: RuntimeFixture): void {
  describe(`app-manager behaviour on ${f.runtime}`, () => {
    let s: Stack;
    let closedPort = 0;
    const docker = dockerClient();
    const tag = (name: string) => `wharf-test/am-${process.pid}-${f.runtime}-${name}:1`;
    const images = ['v1', 'v2', 'crash', 'v1-8081'];
    const http: SpecInit = { ports: [{ port: 8080, protocol: 'http' }], probe: { kind: 'http', path: '/', port: 8080, periodS: 1, failureThreshold: 2 } };
    const web = 'acme.shop.web';
    const workload = (id: string) => f.workload(s, id);
    /** Waits until the runtime holds exactly this for the component (old replicas may take a moment to go). */
    const holds = (id: string, want: { replicas: number; image: string; version: string }) =>
      waitFor(
        `${id}: ${want.replicas} x ${want.version} in the runtime`,
        async () => {
          const w = await workload(id);
          return w.replicas === want.replicas && w.images.join() === want.image && w.versions.join() === Array(want.replicas).fill(want.version).join()
            ? w
            : undefined;
        },
        60_000,
        200,
      );
    const succeeds = async (eventId: Promise<string>) => expect((await finalStatus(s, await eventId, 120_000)).status).toBe('success');

    beforeAll(async () => {
      await httpTestImage(docker, tag('v1'), 'version one');
      await httpTestImage(docker, tag('v2'), 'version two');
      await httpTestImage(docker, tag('v1-8081'), 'version one on 8081', 8081);
      await buildTestImage(docker, tag('crash'), { cmd: ['sh', '-c', 'echo starting; echo boom; exit 3'] });
      await f.provide(images.map(tag));
      // Nothing listens there: a pull from this "registry" fails on the machine, never leaving it.
      closedPort = await freePort();
      s = await startStack(f.runtime.slice(0, 4), { ...f.env(), WHARF_PULL_REGISTRIES: `127.0.0.1:${closedPort}`, WHARF_APPMGR_PROGRESS_DEADLINE_MS: '90000' });
    }, 300_000);
    afterAll(async () => {
      await s?.stop();
      for (const n of images)
        await docker
          .getImage(tag(n))
          .remove({ force: true })
          .catch(() => undefined);
    }, 120_000);

    it('deploys a version to N replicas that answer HTTP, with a timeline and a status read back from the runtime', async () => {
      await createComponent(s, { tenant: 'acme', name: 'web' }, { ...http, replicas: 2 }, [{ id: 'v1', image: tag('v1') }]);
      const final = await finalStatus(s, await enqueue(s, 'deploy', web), 120_000);
      expect(final.status).toBe('success');
      expect(final.lines.join('\n')).toMatch(/deploy of acme\.shop\.web accepted by app-manager/);
      expect(final.lines.join('\n')).toMatch(/\(v1\) is ready: its probe passed/);
      expect(await answers(s, web)).toEqual(['version one', 'version one']);
      const status = await waitFor('running status', async () => ((await statusOf(s, web))?.state === 'running' ? statusOf(s, web) : undefined));
      expect(status).toMatchObject({ versionId: 'v1', desiredReplicas: 2, readyReplicas: 2, runtime: f.runtime });
      expect(status!.replicas.map((r) => r.state)).toEqual(['ready', 'ready']);
      expect(await workload(web)).toEqual({ exists: true, replicas: 2, images: [tag('v1')], versions: ['v1', 'v1'] });
    }, 180_000);

    it('scales up and down, stops (no replica left) and starts again', async () => {
      await succeeds(enqueue(s, 'scale', web, { replicas: 3 }));
      expect(await answers(s, web)).toEqual(Array(3).fill('version one'));
      await succeeds(enqueue(s, 'stop', web));
      expect((await endpointsOf(s, web))?.endpoints).toEqual([]);
      expect((await statusOf(s, web))?.state).toBe('stopped');
      expect(await workload(web)).toMatchObject({ replicas: 0, versions: [] });
      await succeeds(enqueue(s, 'start', web));
      expect(await answers(s, web)).toEqual(Array(3).fill('version one'));
      await succeeds(enqueue(s, 'scale', web, { replicas: 2 }));
      expect(await answers(s, web)).toEqual(['version one', 'version one']);
      await holds(web, { replicas: 2, image: tag('v1'), version: 'v1' });
    }, 240_000);

    it("upgrades rolling and health-gated; a failing new version is rolled back, the operation failing with the replica's reason", async () => {
      await recordVersion(s, web, 'v2', tag('v2'));
      await succeeds(enqueue(s, 'upgrade', web, { versionId: 'v2' }));
      expect(await answers(s, web)).toEqual(['version two', 'version two']);
      await holds(web, { replicas: 2, image: tag('v2'), version: 'v2' });

      await recordVersion(s, web, 'v3', tag('crash'));
      const bad = await finalStatus(s, await enqueue(s, 'upgrade', web, { versionId: 'v3' }), 180_000);
      expect(bad).toMatchObject({ status: 'failure', failedStep: 'upgrade' });
      // Its own words: the exit code and its last lines.
      expect(bad.message).toMatch(/replica \S+ \(v3\) crashed: .*exited with code 3.*last lines: starting \| boom/);
      expect(bad.lines.join('\n')).toMatch(/rollout failed: .*restoring v2/);
      await holds(web, { replicas: 2, image: tag('v2'), version: 'v2' });
      expect(await answers(s, web)).toEqual(['version two', 'version two']);
      expect(await statusOf(s, web)).toMatchObject({ versionId: 'v2', readyReplicas: 2 });
    }, 300_000);

    it('rolls back to an earlier version through the same rollout', async () => {
      await succeeds(enqueue(s, 'rollback', web, { versionId: 'v1' }));
      expect(await answers(s, web)).toEqual(['version one', 'version one']);
      await holds(web, { replicas: 2, image: tag('v1'), version: 'v1' });
      expect(await statusOf(s, web)).toMatchObject({ versionId: 'v1' });
    }, 180_000);

    it('brings back a replica whose process is killed behind its back', async () => {
      // Replicas of earlier releases may still be terminating (Kubernetes): none of them is the one killed.
      const settled = await waitFor('two ready replicas, nothing else', async () => {
        const st = await statusOf(s, web);
        return st?.replicas.length === 2 && st.replicas.every((r) => r.state === 'ready') ? st : undefined;
      });
      const before = Math.max(...settled.replicas.map((r) => r.restarts));
      await f.kill(s, web);
      const healed = await waitFor(
        'the killed replica restarted (or replaced), ready again',
        async () => {
          const st = await statusOf(s, web);
          const live = st?.replicas.filter((r) => r.state !== 'stopping') ?? [];
          return st?.state === 'running' && live.length === 2 && live.every((r) => r.state === 'ready') && live.some((r) => r.restarts > before)
            ? st
            : undefined;
        },
        90_000,
        200,
      );
      expect(healed.readyReplicas).toBe(2);
      await waitFor('both answer', async () => ((await answers(s, web)).join() === 'version one,version one' ? true : undefined), 30_000);
      await holds(web, { replicas: 2, image: tag('v1'), version: 'v1' });
    }, 180_000);

    it("answers a status with each replica's live cpu and memory over gRPC, and refuses bad or unknown ids", async () => {
      const grpc = createClient(appmanagerV1.AppManagerService, s.appManagers[0].grpc, { security: clientSecurity(s.etcd, 'api-gateway') });
      const ask = (componentId: string) => grpc.getComponentStatus(create(appmanagerV1.GetComponentStatusRequestSchema, { componentId, usage: true }));
      try {
        // A replica that has just started may not be in the runtime's statistics yet.
        const res = await waitFor(
          'a memory reading of both replicas',
          async () => {
            const r = await ask(web);
            return r.status!.replicas.length === 2 && r.status!.replicas.every((x) => x.memoryBytes > 0n) ? r : undefined;
          },
          60_000,
          1000,
        );
        expect(res.status).toMatchObject({ componentId: web, state: 'running', runtime: f.runtime });
        await expect(ask('../etc')).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(ask('acme.shop.none')).rejects.toBeInstanceOf(NotFoundError);
      } finally {
        grpc.close();
      }
    }, 120_000);

    it('gives a dependant <NAME>_HOST / <NAME>_PORT that reach the dependency, and rolls it when they move', async () => {
      const api = await createComponent(s, { tenant: 'acme', name: 'api' }, { ...http, replicas: 1 }, [{ id: 'v1', image: tag('v1') }]);
      await succeeds(enqueue(s, 'deploy', api));
      const front = await createComponent(s, { tenant: 'acme', name: 'front' }, { ...http, replicas: 1, dependsOn: ['api'] }, [{ id: 'v1', image: tag('v1') }]);
      await succeeds(enqueue(s, 'deploy', front));
      const driver = f.driver(s);
      const fetchApi = `echo "port=$API_PORT"; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 "$API_HOST" "$API_PORT"`;
      const [first] = (await driver.listReplicas({ componentId: front })).filter((r) => r.phase === 'running');
      const out = await driver.exec(first.id, ['sh', '-c', fetchApi], { timeoutMs: 10_000 });
      expect(out.output).toContain('port=8080');
      expect(out.output).toContain('version one');

      // api moves to another port: front is rolled with the new value, without an operation of its own.
      await updateSpec(s, api, { name: 'api', replicas: 1, ports: [{ port: 8081, protocol: 'http' }], probe: { ...http.probe, port: 8081 } });
      await recordVersion(s, api, 'v2', tag('v1-8081'));
      await succeeds(enqueue(s, 'upgrade', api, { versionId: 'v2' }));
      const answered = await waitFor(
        'front rolled with API_PORT=8081, reaching api',
        async () => {
          const [r] = (await driver.listReplicas({ componentId: front })).filter((x) => x.phase === 'running' && x.id !== first.id);
          if (!r) return undefined;
          const again = await driver.exec(r.id, ['sh', '-c', fetchApi], { timeoutMs: 10_000 });
          return again.output.includes('port=8081') && again.output.includes('version one on 8081') ? again.output : undefined;
        },
        90_000,
        500,
      );
      expect(answered).toContain('version one on 8081');
    }, 300_000);

    it('ends bad tasks and a release that cannot start with a failure that names the problem', async () => {
      // Bytes that are no task, on a topic app-manager consumes.
      const garbage = `evt-garbage-${process.pid}-${Date.now().toString(36)}`;
      await s.mq.client.enqueue(create(mqV1.EnqueueRequestSchema, { topic: 'deploy', taskId: garbage, eventId: garbage, payload: Buffer.from('not a task') }));
      expect(await finalStatus(s, garbage)).toMatchObject({ status: 'failure', message: expect.stringMatching(/^task refused: /) });
      expect(await finalStatus(s, await enqueue(s, 'deploy', 'acme.shop.nothing'))).toMatchObject({
        status: 'failure',
        message: 'component acme.shop.nothing does not exist in tenant acme',
      });
      expect(await finalStatus(s, await enqueue(s, 'upgrade', web, { versionId: 'v99' }))).toMatchObject({
        status: 'failure',
        message: expect.stringContaining('has no version v99'),
      });
      expect(await finalStatus(s, await enqueue(s, 'scale', web, { replicas: 1000 }))).toMatchObject({
        status: 'failure',
        message: expect.stringContaining('at most 100, got 1000'),
      });
      // An image nobody can pull: the image is named, and nothing else is touched.
      const missing = `127.0.0.1:${closedPort}/wharf-test/missing:1`;
      const ghost = await createComponent(s, { tenant: 'acme', name: 'ghost' }, { ...http, replicas: 1 }, [{ id: 'v1', image: missing }]);
      const pulled = await finalStatus(s, await enqueue(s, 'deploy', ghost), 180_000);
      expect(pulled.status).toBe('failure');
      expect(pulled.message).toContain(`image ${missing}`);
      expect(pulled.message).toMatch(/(could not|cannot) be pulled/);
      expect(await answers(s, web)).toEqual(['version one', 'version one']);
      expect(await statusOf(s, web)).toMatchObject({ versionId: 'v1', desiredReplicas: 2, readyReplicas: 2 });
    }, 300_000);

    it('deletes a component: its workload, endpoints and status go; its history stays', async () => {
      const started = Date.now();
      await succeeds(enqueue(s, 'delete', web));
      const ms = Date.now() - started;
      expect(await workload(web)).toEqual({ exists: false, replicas: 0, images: [], versions: [] });
      expect(await endpointsOf(s, web)).toBeUndefined();
      expect(await answers(s, web)).toEqual([]);
      expect((await s.store.read(`component/${web}`)).map((e) => e.type)).toContain('wharf.events.v1.ComponentRetired');
      expect((await finalStatus(s, await enqueue(s, 'start', web))).message).toBe(`component ${web} is deleted`);
      process.stdout.write(`${JSON.stringify({ measure: 'app-manager-delete', runtime: f.runtime, ms })}\n`);
    }, 180_000);
  });
}
