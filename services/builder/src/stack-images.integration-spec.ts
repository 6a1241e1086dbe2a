import { eventsV1 } from '@wharf/contracts';
import { join } from 'node:path';
import { BuildWorld, FIXTURES } from '../test/build-world';

// Stack images are made by the first build that needs one, with the progress in its log, and
// reused afterwards; two builds needing the same missing stack wait for one maker. A repository
// of its own for this run's language stacks makes the static stack missing (the Debian base
// stays the shared one: made with debootstrap once per machine).
describe('builder: stack images made once, by the first build that needs them', () => {
  const world = new BuildWorld();
  const tenant = `s${Date.now().toString(36)}`;
  const repository = `wharf-stack-test-${tenant}`;

  beforeAll(async () => {
    await world.start();
    await world.startBuilder({ WHARF_BUILDER_STACK_REPOSITORY: repository, WHARF_BUILDER_CONCURRENCY: '2' });
    world.git.publish('static', join(FIXTURES, 'static'));
  }, 120_000);

  afterAll(async () => {
    const images = await world.docker.listImages({ filters: JSON.stringify({ reference: [`${repository}/*`] }) });
    for (const i of images)
      await world.docker
        .getImage(i.Id)
        .remove({ force: true })
        .catch(() => undefined);
    await world.stop();
  }, 60_000);

  it('makes the missing stack once for two builds at the same time, with progress in one log, and reuses it later', async () => {
    const [a, b] = [await world.createComponent(tenant, 'a'), await world.createComponent(tenant, 'b')];
    const [ea, eb] = [await world.requestBuild(tenant, a, world.gitSource('static')), await world.requestBuild(tenant, b, world.gitSource('static'))];
    const [ta, tb] = [await world.finished(ea), await world.finished(eb)];
    world.dump(ta);
    world.dump(tb);
    expect([ta.info?.status, tb.info?.status]).toEqual([eventsV1.OperationStatus.SUCCESS, eventsV1.OperationStatus.SUCCESS]);
    const making = (t: typeof ta) => t.lines.some((l) => l.startsWith(`[stack] building the static stack image ${repository}/static:`));
    expect([making(ta), making(tb)].filter(Boolean)).toHaveLength(1);
    const maker = making(ta) ? ta : tb;
    const other = maker === ta ? tb : ta;
    // The maker's log shows the stack's own build steps (BuildKit may take them from its cache:
    // another repository's image of the same recipe was built on this engine before).
    expect(maker.lines.some((l) => /^\[stack\] #\d+ \[2\/3\] RUN apt-get update .* busybox/.test(l))).toBe(true);
    expect(maker.lines.some((l) => l.startsWith(`[stack] ${repository}/static:`) && l.endsWith('is ready'))).toBe(true);
    expect(other.lines).toContain('[stack] waiting for the static stack image another build is making');

    const c = await world.createComponent(tenant, 'c');
    const tc = await world.finished(await world.requestBuild(tenant, c, world.gitSource('static')));
    expect(tc.info?.status).toBe(eventsV1.OperationStatus.SUCCESS);
    expect(tc.lines.some((l) => l.startsWith('[stack]'))).toBe(false);
    expect(tc.lines.some((l) => l.startsWith(`stack image ${repository}/static:`))).toBe(true);
  }, 600_000);
});
