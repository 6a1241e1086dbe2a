import { buildTestImage, dockerClient, httpTestImage, waitFor } from '@wharf/testing';
import { createServer, type Server } from 'node:net';
import {
  answers,
  containersOf,
  createComponent,
  enqueue,
  finalStatus,
  recordVersion,
  startStack,
  statusOf,
  updateSpec,
  type SpecInit,
  type Stack,
} from '../test/harness';

// Each bad release ends its operation with a failure that names the cause, while the version
// that ran before keeps serving, untouched: the rollout never retires an old replica before a
// new one passes its probe, and an abort removes the new ones.
describe('app-manager: bad releases fail clearly and the previous version keeps serving', () => {
  let s: Stack;
  const docker = dockerClient();
  const tag = (name: string) => `wharf-test/am-${process.pid}-faults-${name}:1`;
  const spec: SpecInit = {
    replicas: 2,
    ports: [{ port: 8080, protocol: 'http' }],
    probe: { kind: 'http', path: '/', port: 8080, periodS: 1, failureThreshold: 2 },
  };
  let version = 1;

  /** A component running v1 (2 replicas answering "version one"). */
  async function running(name: string, over: SpecInit = {}): Promise<string> {
    const id = await createComponent(s, { tenant: 'acme', name }, { ...spec, ...over }, [{ id: 'v1', image: tag('good') }]);
    expect((await finalStatus(s, await enqueue(s, 'deploy', id))).status).toBe('success');
    expect(await answers(s, id)).toEqual(Array(over.replicas ?? 2).fill('version one'));
    return id;
  }

  /** Rolls `image` out to `id` and expects a failure whose message matches; v1 must still serve. */
  async function failsWith(id: string, image: string, reason: RegExp): Promise<void> {
    const v = `v${++version}`;
    await recordVersion(s, id, v, image);
    const final = await finalStatus(s, await enqueue(s, 'upgrade', id, { versionId: v }));
    expect(final.status).toBe('failure');
    expect(final.message).toMatch(reason);
    expect(final.failedStep).toBe('upgrade');
    await stillServing(id);
  }

  async function stillServing(id: string): Promise<void> {
    expect(await answers(s, id)).toEqual(['version one', 'version one']);
    // The failed ones leave the endpoints at once; their containers go right after.
    await waitFor('only the v1 containers', async () =>
      (await containersOf(s, id)).map((c) => c.Labels['wharf/version']).join() === 'v1,v1' ? true : undefined,
    );
    const status = await statusOf(s, id);
    expect(status).toMatchObject({ versionId: 'v1', readyReplicas: 2 });
  }

  beforeAll(async () => {
    await httpTestImage(docker, tag('good'), 'version one');
    // One 64 MiB buffer filled at once: over the 32 MiB limit within milliseconds, long before
    // its probe could fail (a growing string took seconds on a loaded machine and lost that race).
    await buildTestImage(docker, tag('oom'), { cmd: ['sh', '-c', 'exec dd if=/dev/zero of=/dev/null bs=64M count=1'] });
    s = await startStack('faults');
  }, 120_000);
  afterAll(async () => {
    await s?.stop();
    for (const n of ['good', 'oom'])
      await docker
        .getImage(tag(n))
        .remove({ force: true })
        .catch(() => undefined);
  });

  it('an image that does not exist', async () => {
    const id = await running('missing');
    await failsWith(id, `wharf-test/am-${process.pid}-no-such-image:1`, /image wharf-test\/am-\d+-no-such-image:1 is not on the engine/);
  });

  it('a memory limit the process exceeds', async () => {
    const id = await running('oom', { memoryMib: 32 });
    await failsWith(id, tag('oom'), /OOM killed \(it used more memory than its limit of 32 MiB\)/);
  });

  it('a probe that never passes: its output', async () => {
    const id = await running('probe');
    // The next rollout applies a spec whose probe asks for a page the app does not have.
    await updateSpec(s, id, { name: 'probe', ...spec, probe: { kind: 'http', path: '/healthz', port: 8080, periodS: 1, failureThreshold: 2 } });
    await failsWith(id, tag('good'), /probe never passed: HTTP 404/);
  });

  it('a host port already taken', async () => {
    const held: Server = createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const port = (held.address() as { port: number }).port;
    try {
      const id = await running('port', { replicas: 1 });
      await updateSpec(s, id, { name: 'port', ...spec, replicas: 1, ports: [{ port: 8080, protocol: 'http', hostPort: port }] });
      const final = await finalStatus(s, await enqueue(s, 'restart', id));
      expect(final.status).toBe('failure');
      expect(final.message).toContain(`host port 127.0.0.1:${port} is already in use`);
      expect(await answers(s, id)).toEqual(['version one']);
      expect((await containersOf(s, id)).map((c) => c.Ports.filter((p) => p.PublicPort).length)).toEqual([0]); // the old replica, unpublished
    } finally {
      await new Promise<void>((resolve) => held.close(() => resolve()));
    }
  });
});
