import { eventsV1 } from '@wharf/contracts';
import { join } from 'node:path';
import { BuildWorld, FIXTURES } from '../test/build-world';

// A Node.js app from git to a running container: clone from a real git daemon, detect,
// generate the Dockerfile on the local stack image, BuildKit with the host's CA as a secret
// (npm ci reaches the npm registry through the TLS-inspecting egress), push to a real
// registry with htpasswd, the Version in the event store, every step and line in event-log.
describe('builder: a Node.js source build end to end', () => {
  const world = new BuildWorld();
  let componentId: string;
  // A tenant of its own per run: the dependency step's cache key (its cache mount's id) is new, so npm ci really runs.
  const tenant = `t${Date.now().toString(36)}`;

  beforeAll(async () => {
    await world.start();
    await world.startBuilder();
    world.git.publish('nodejs', join(FIXTURES, 'nodejs'));
    componentId = await world.createComponent(tenant, 'web');
  }, 120_000);

  afterAll(() => world.stop(), 60_000);

  it('builds, pushes, records one Version and reports every step; the image answers', async () => {
    const eventId = await world.requestBuild(tenant, componentId, world.gitSource('nodejs'));
    const t = await world.finished(eventId);
    expect({ status: t.info?.status, message: t.info?.message }).toEqual({ status: eventsV1.OperationStatus.SUCCESS, message: '' });
    for (const step of ['clone', 'detect', 'build', 'push', 'record']) expect(t.steps.get(step)).toMatchObject({ started: true, status: 'success' });
    world.dump(t);
    expect(t.lines).toContain('found package.json in the build directory');
    expect(t.lines.some((l) => /^#\d+ \[stage-0 \d\/\d\] RUN .*npm ci --omit=dev/.test(l))).toBe(true);
    expect(t.lines.some((l) => /added 1 package/.test(l))).toBe(true);

    const versions = await world.versions(componentId);
    expect(versions).toHaveLength(1);
    const v = versions[0];
    expect(v).toMatchObject({ buildEventId: eventId, status: 'success', buildKind: 'source', stack: expect.stringMatching(/^nodejs 18\./) });
    expect(v.image).toBe(`${world.registry.address}/${tenant}/${tenant}.app.web:${v.versionId}`);
    expect(v.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(v.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(v.source).toBe(`${world.git.url('nodejs')}#${v.commit}`);
    expect(Number(v.sizeBytes)).toBeGreaterThan(1_000_000);

    const res = await world.run(`${v.image.split(':').slice(0, -1).join(':')}@${v.digest}`);
    expect(res).toEqual({ status: 200, body: 'hello from nodejs: two days are 172800000 ms\n' });
  }, 300_000);
});
