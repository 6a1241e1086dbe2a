import { eventsV1 } from '@wharf/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuildWorld, FIXTURES } from '../test/build-world';

// Source builds from git to a running container, one per language: clone from a real git
// daemon, detect, generate the Dockerfile on the local stack images, BuildKit with the host's CA
// as a secret (npm ci reaches npm's registry through the TLS-inspecting egress), push to a real
// registry with htpasswd, the Version in the event store, every step and line in event-log.
describe('builder: source builds end to end', () => {
  const world = new BuildWorld();
  // A tenant of its own per run: the dependency steps' cache keys (their cache mounts' ids) are new, so installs really run.
  const tenant = `t${Date.now().toString(36)}`;
  /** The commit each fixture repository was published at. */
  const published = new Map<string, string>();

  beforeAll(async () => {
    await world.start();
    await world.startBuilder();
    for (const name of ['nodejs', 'python', 'go', 'php', 'static', 'java-maven']) published.set(name, world.git.publish(name, join(FIXTURES, name)));
  }, 120_000);

  afterAll(() => world.stop(), 60_000);

  const components = new Map<string, string>();
  async function buildOk(name: string, more: Parameters<BuildWorld['gitSource']>[1] = {}) {
    const componentId = components.get(name) ?? (await world.createComponent(tenant, name));
    components.set(name, componentId);
    const before = (await world.versions(componentId)).length;
    const eventId = await world.requestBuild(tenant, componentId, world.gitSource(name, more));
    const t = await world.finished(eventId);
    world.dump(t);
    expect({ status: t.info?.status, message: t.info?.message }).toEqual({ status: eventsV1.OperationStatus.SUCCESS, message: '' });
    const versions = await world.versions(componentId);
    expect(versions).toHaveLength(before + 1);
    return { componentId, eventId, t, v: versions[before] };
  }

  it('builds the Node.js fixture: npm ci from the lock, a Version with digest, commit and size, and it answers', async () => {
    const { t, v, eventId, componentId } = await buildOk('nodejs');
    for (const step of ['clone', 'detect', 'build', 'push', 'record']) expect(t.steps.get(step)).toMatchObject({ started: true, status: 'success' });
    expect(t.lines).toContain('found package.json in the build directory');
    expect(t.lines.some((l) => /^#\d+ \[stage-0 \d\/\d\] RUN .*npm ci --omit=dev/.test(l))).toBe(true);
    expect(t.lines.some((l) => /added 1 package/.test(l))).toBe(true);
    expect(v).toMatchObject({ buildEventId: eventId, status: 'success', buildKind: 'source', stack: expect.stringMatching(/^nodejs 18\./) });
    expect(v.image).toBe(`${world.registry.address}/${tenant}/${componentId}:${v.versionId}`);
    expect(v.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(v.commit).toBe(published.get('nodejs'));
    expect(v.source).toBe(`${world.git.url('nodejs')}#${v.commit}`);
    expect(Number(v.sizeBytes)).toBeGreaterThan(1_000_000);
    expect(await world.run(BuildWorld.pinned(v))).toEqual({ status: 200, body: 'hello from nodejs: two days are 172800000 ms\n' });
  }, 400_000);

  it('reuses the dependency layer after a source-only change (BuildKit says CACHED) and serves the new source', async () => {
    // The component's dependency layer exists (built by the test above, or now), then only server.js changes.
    if (!components.has('nodejs')) await buildOk('nodejs');
    const server = readFileSync(join(FIXTURES, 'nodejs', 'server.js'), 'utf8');
    world.git.change('nodejs', { 'server.js': server.replace('hello from nodejs', 'hello again from nodejs') });
    const { t, v } = await buildOk('nodejs');
    expect(BuildWorld.cached(t.lines, /RUN .*npm ci/)).toBe(true);
    expect(BuildWorld.cached(t.lines, /COPY \. \.$/)).toBe(false);
    expect(await world.run(BuildWorld.pinned(v))).toEqual({ status: 200, body: 'hello again from nodejs: two days are 172800000 ms\n' });
  }, 400_000);

  it("fails on a dependency that cannot be fetched, with npm's own error in the log, and pushes nothing", async () => {
    world.git.change('nodejs', {
      'package.json': JSON.stringify({
        name: 'f',
        version: '1.0.0',
        scripts: { start: 'node server.js' },
        dependencies: { 'wharf-no-such-package-zz9': '1.0.0' },
      }),
      'package-lock.json': null,
    });
    const componentId = await world.createComponent(tenant, 'unfetchable');
    const eventId = await world.requestBuild(tenant, componentId, world.gitSource('nodejs'));
    const t = await world.finished(eventId);
    world.dump(t);
    expect(t.info).toMatchObject({ status: eventsV1.OperationStatus.FAILURE, failedStep: 'build' });
    expect(t.info?.message).toMatch(/RUN .*npm install.* failed with exit code 1/);
    expect(t.info?.message).toMatch(/npm ERR! 404 .*wharf-no-such-package-zz9/);
    expect(t.lines.some((l) => /npm ERR! code E404/.test(l))).toBe(true);
    expect(t.steps.has('push')).toBe(false);
    expect(await world.versions(componentId)).toEqual([]);
    expect(await world.tags(`${tenant}/${componentId}`)).toEqual([]);
  }, 400_000);

  it('builds the Python fixture on the standard library and says the stack lacks the Python it asks for', async () => {
    const { t, v } = await buildOk('python');
    expect(t.lines).toContain('stack: python');
    expect(t.lines).toContain('warning: .python-version asks for 3.12, but the python stack has 3.11.2: building with 3.11.2');
    expect(v.warnings).toEqual(['.python-version asks for 3.12, but the python stack has 3.11.2: building with 3.11.2']);
    expect(await world.run(BuildWorld.pinned(v))).toEqual({ status: 200, body: 'hello from python\n' });
  }, 400_000);

  it('builds the Go fixture into a static binary on the Debian base', async () => {
    const { t, v } = await buildOk('go');
    expect(t.lines).toContain('found go.mod in the build directory');
    expect(v.stack).toMatch(/^go 1\.19/);
    expect(await world.run(BuildWorld.pinned(v))).toEqual({ status: 200, body: 'hello from go\n' });
  }, 400_000);

  it("builds the PHP fixture on PHP's built-in server", async () => {
    const { v } = await buildOk('php');
    expect(v.stack).toMatch(/^php 8\.2/);
    expect(await world.run(BuildWorld.pinned(v))).toEqual({ status: 200, body: 'hello from php\n' });
  }, 400_000);

  it("builds the Java fixture with Maven (plugins from Debian's packaged repository) into a jar on the JRE", async () => {
    const { t, v } = await buildOk('java-maven');
    expect(t.lines).toContain('found pom.xml (Maven) in the build directory');
    expect(t.lines.some((l) => /BUILD SUCCESS/.test(l))).toBe(true);
    expect(v.stack).toMatch(/^java-maven 17\./);
    expect(await world.run(BuildWorld.pinned(v))).toEqual({ status: 200, body: 'hello from java\n' });
  }, 600_000);

  it('serves the static fixture from its document root', async () => {
    const { t, v } = await buildOk('static');
    expect(t.lines).toContain('found public/index.html and no application manifest (a static site) in the build directory');
    expect(await world.run(BuildWorld.pinned(v))).toEqual({ status: 200, body: 'hello from a static site\n' });
  }, 400_000);

  it('counts its builds in /metrics by outcome and failing step', async () => {
    const text = await (await fetch(`${world.builders[0].url}/metrics`)).text();
    expect(Number(/^wharf_builder_builds_total\{outcome="recorded"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^wharf_builder_running_builds 0$/m);
    expect(await (await fetch(`${world.builders[0].url}/readyz`)).json()).toMatchObject({ status: 'ready' });
  });
});
