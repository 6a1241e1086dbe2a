import { eventsV1 } from '@wharf/contracts';
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildkitAdapter } from './adapters/buildkit.adapter';
import { hostDebian } from './adapters/host-apt.adapter';
import { StackImagesAdapter } from './adapters/stack-images.adapter';
import { BuildWorld, SHARED_WORK_DIR } from '../test/build-world';

// Limits of one builder instance: memory and cpu of every RUN step (enforced in BuildKit's
// cgroups; a build that exceeds memory fails saying so), the build timeout, the repository
// size, and how many builds run at once.
describe('builder: limits', () => {
  const world = new BuildWorld();
  const tenant = `l${Date.now().toString(36)}`;
  const nonce = randomBytes(4).toString('hex');
  let python: string;

  /** Publishes a repository holding these files. */
  function repo(name: string, files: Record<string, string | Buffer>): void {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-limits-'));
    for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
    world.git.publish(name, dir);
    rmSync(dir, { recursive: true, force: true });
  }

  // Every Dockerfile starts with a fresh nonce so no step comes from an earlier run's cache.
  const dockerfile = (...run: string[]) => ['ARG BASE', 'FROM ${BASE}', `RUN echo ${nonce}`, ...run.map((r) => `RUN ${r}`), 'CMD ["true"]', ''].join('\n');

  beforeAll(async () => {
    await world.start();
    await world.startBuilder(limited);
    const docker = new Docker({ socketPath: '/var/run/docker.sock' });
    const buildkit = new BuildkitAdapter({
      dockerCli: '/usr/bin/docker',
      dockerSocket: '/var/run/docker.sock',
      marker: () => 'test',
      scratchDir: SHARED_WORK_DIR,
    });
    python = (await new StackImagesAdapter({ docker, buildkit, ...hostDebian(), workDir: SHARED_WORK_DIR }).ensure('python', () => undefined)).ref;
    // Memory grows 10 MiB at a time, as a build's does, up to 600 MiB.
    repo('hog', {
      Dockerfile: dockerfile(`python3 -c "import time; chunks = [] ; [chunks.append(b'x' * (10 << 20)) or time.sleep(0.02) for _ in range(60)]"`),
    });
    // Reads its own cgroup's limits once they had a moment to be applied.
    repo('limits', {
      Dockerfile: dockerfile('sleep 1 && echo "memory $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes) cpu $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)"'),
    });
    repo('slow', { Dockerfile: dockerfile('sleep 300') });
    repo('big', { Dockerfile: dockerfile(), 'blob.bin': randomBytes(3 << 20) });
    repo('one', { Dockerfile: dockerfile('sleep 2') });
    repo('two', { Dockerfile: dockerfile('sleep 2') });
  }, 600_000);

  afterAll(() => world.stop(), 60_000);

  const limited = { WHARF_BUILDER_CONCURRENCY: '1', WHARF_BUILDER_MEMORY_MIB: '200', WHARF_BUILDER_CPUS: '0.5', WHARF_BUILDER_MAX_REPO_MIB: '1' };

  const build = async (name: string) => {
    const componentId = await world.createComponent(tenant, name);
    const eventId = await world.requestBuild(tenant, componentId, world.gitSource(name), { options: { buildArgs: { BASE: python } } });
    return { componentId, eventId };
  };

  it('puts every RUN step of a build under its cpu and memory limits', async () => {
    const { eventId } = await build('limits');
    const t = await world.finished(eventId);
    world.dump(t);
    expect(t.info?.status).toBe(eventsV1.OperationStatus.SUCCESS);
    expect(t.lines.some((l) => / memory 209715200 cpu 50000$/.test(l))).toBe(true);
  }, 300_000);

  it('fails a build that exceeds its memory limit, saying so, and pushes nothing', async () => {
    const { eventId, componentId } = await build('hog');
    const t = await world.finished(eventId);
    world.dump(t);
    expect(t.info).toMatchObject({ status: eventsV1.OperationStatus.FAILURE, failedStep: 'build' });
    expect(t.info?.message).toMatch(/^the build exceeded its memory limit of 200 MiB in \[\d\/\d\] RUN python3 .* and was killed/);
    expect(await world.tags(`${tenant}/${componentId}`)).toEqual([]);
  }, 300_000);

  it('refuses a repository over the size limit', async () => {
    const { eventId } = await build('big');
    const t = await world.finished(eventId);
    expect(t.info).toMatchObject({
      status: eventsV1.OperationStatus.FAILURE,
      failedStep: 'clone',
      message: expect.stringMatching(/^the repository is larger than the limit of 1 MiB/),
    });
  }, 300_000);

  it('runs one build at a time with a concurrency of 1: the second starts after the first ended', async () => {
    const first = await build('one');
    const second = await build('two');
    const [a, b] = [await world.finished(first.eventId), await world.finished(second.eventId)];
    expect([a.info?.status, b.info?.status]).toEqual([eventsV1.OperationStatus.SUCCESS, eventsV1.OperationStatus.SUCCESS]);
    // Ordering of event-log's own stored times, not a duration.
    const finalOf = (t: typeof a) => t.entries.find((e) => e.body.case === 'final')!.storedMs;
    const startOf = (t: typeof a) => t.entries[0].storedMs;
    const [early, late] = startOf(a) <= startOf(b) ? [a, b] : [b, a];
    expect(startOf(late)).toBeGreaterThanOrEqual(finalOf(early));
  }, 300_000);

  it('stops a build that runs past the timeout and fails it naming the step', async () => {
    // A builder of its own with a short timeout (a loaded machine can take longer than it for the other builds here).
    await world.builders[0].stop();
    await world.startBuilder({ ...limited, WHARF_BUILDER_TIMEOUT_S: '20' });
    const { eventId } = await build('slow');
    const t = await world.finished(eventId);
    expect(t.info).toMatchObject({
      status: eventsV1.OperationStatus.FAILURE,
      failedStep: 'build',
      message: expect.stringMatching(/^the build took longer than its limit of 20 s/),
    });
    expect(t.info?.message).toMatch(/RUN sleep 300/);
  }, 300_000);
});
