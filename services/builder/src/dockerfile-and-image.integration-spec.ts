import { create } from '@bufbuild/protobuf';
import { eventsV1, tasksV1 } from '@wharf/contracts';
import { sealSourceCredentials, SecretBox } from '@wharf/secrets';
import { httpTestImage, startRegistry, type RegistryInstance } from '@wharf/testing';
import Docker from 'dockerode';
import { join } from 'node:path';
import { BuildkitAdapter } from './adapters/buildkit.adapter';
import { hostDebian } from './adapters/host-apt.adapter';
import { StackImagesAdapter } from './adapters/stack-images.adapter';
import { BuildWorld, FIXTURES, SHARED_WORK_DIR } from '../test/build-world';

// The repository's own Dockerfile (sub-directory, path, build arguments, target) and image
// sources (pulled from a second registry with the user's sealed credentials, retagged, pushed
// to the data center's registry with its digest).
describe('builder: Dockerfile and image builds', () => {
  const world = new BuildWorld();
  const tenant = `d${Date.now().toString(36)}`;
  const box = new SecretBox(Buffer.from('cd'.repeat(32), 'hex'));
  let userRegistry: RegistryInstance;
  let staticStack: string;
  let sourceImage: string;

  beforeAll(async () => {
    await world.start();
    await world.startBuilder();
    world.git.publish('dockerfile', join(FIXTURES, 'dockerfile'));
    // Nothing can be pulled from outside: the fixture's Dockerfile builds FROM the image named by its BASE argument, a local stack image.
    const docker = new Docker({ socketPath: '/var/run/docker.sock' });
    const buildkit = new BuildkitAdapter({
      dockerCli: '/usr/bin/docker',
      dockerSocket: '/var/run/docker.sock',
      marker: () => 'test',
      scratchDir: SHARED_WORK_DIR,
    });
    staticStack = (await new StackImagesAdapter({ docker, buildkit, ...hostDebian(), workDir: SHARED_WORK_DIR }).ensure('static', () => undefined)).ref;
    userRegistry = await startRegistry({ username: 'alice', password: 'alice-registry-secret' });
    const local = await httpTestImage(world.docker, `wharf-builder-test/user-app:${tenant}`, 'hello from a user image\n');
    world.forgetImage(local);
    sourceImage = await world.pushTestImage(local, userRegistry, 'team/app', 'v1');
  }, 600_000);

  afterAll(async () => {
    await world.stop();
    await userRegistry?.destroy();
  }, 60_000);

  const args = () => ({ buildArgs: { BASE: staticStack, GREETING: 'hello' }, target: 'runtime' });

  it('builds the Dockerfile found in the sub-directory with build arguments and a target', async () => {
    const componentId = await world.createComponent(tenant, 'web');
    const eventId = await world.requestBuild(tenant, componentId, world.gitSource('dockerfile', { subDir: 'services/web' }), { options: args() });
    const t = await world.finished(eventId);
    world.dump(t);
    expect(t.info?.status).toBe(eventsV1.OperationStatus.SUCCESS);
    expect(t.lines).toContain('found Dockerfile in the build directory: it is used as is');
    expect(t.lines.some((l) => l.includes('this stage must not run'))).toBe(false);
    const [v] = await world.versions(componentId);
    expect(v).toMatchObject({ buildKind: 'dockerfile', stack: '', detectReason: 'found Dockerfile in the build directory: it is used as is' });
    expect(await world.run(BuildWorld.pinned(v))).toEqual({ status: 200, body: 'hello from a Dockerfile\n' });
  }, 400_000);

  it('builds the Dockerfile the component names by its path', async () => {
    const componentId = await world.createComponent(tenant, 'named');
    const eventId = await world.requestBuild(
      tenant,
      componentId,
      world.gitSource('dockerfile', { subDir: 'services/web', dockerfile: 'services/web/Dockerfile' }),
      {
        options: { ...args(), buildArgs: { BASE: staticStack, GREETING: 'hi' } },
      },
    );
    const t = await world.finished(eventId);
    expect(t.info?.status).toBe(eventsV1.OperationStatus.SUCCESS);
    expect(t.lines).toContain('the component names its Dockerfile: services/web/Dockerfile');
    const [v] = await world.versions(componentId);
    expect(await world.run(BuildWorld.pinned(v))).toEqual({ status: 200, body: 'hi from a Dockerfile\n' });
  }, 400_000);

  it("fails a broken Dockerfile in the build step with BuildKit's reason, pushing nothing", async () => {
    world.git.change('dockerfile', { 'broken/Dockerfile': 'FROMM nowhere\nRUN true\n' });
    const componentId = await world.createComponent(tenant, 'broken');
    const eventId = await world.requestBuild(tenant, componentId, world.gitSource('dockerfile', { subDir: 'broken' }));
    const t = await world.finished(eventId);
    world.dump(t);
    expect(t.info).toMatchObject({ status: eventsV1.OperationStatus.FAILURE, failedStep: 'build' });
    expect(t.info?.message).toMatch(/unknown instruction: FROMM/i);
    expect(await world.tags(`${tenant}/${componentId}`)).toEqual([]);
  }, 400_000);

  const imageSource = (image: string) => ({ kind: { case: 'image' as const, value: { image } } });
  const withCredentials = (componentId: string, username: string, password: string) => ({
    options: create(tasksV1.BuildOptionsSchema, {
      credentials: sealSourceCredentials(box, componentId, { registryUsername: username, registryPassword: password }),
    }),
  });

  it("pulls an image from a registry with the user's credentials, pushes it to the data center's with its digest", async () => {
    const componentId = await world.createComponent(tenant, 'img');
    const eventId = await world.requestBuild(tenant, componentId, imageSource(sourceImage), withCredentials(componentId, 'alice', 'alice-registry-secret'));
    const t = await world.finished(eventId);
    world.dump(t);
    expect(t.info?.status).toBe(eventsV1.OperationStatus.SUCCESS);
    expect([...t.steps.keys()]).toEqual(['pull', 'push', 'record']);
    expect(t.lines.join('\n')).not.toContain('alice-registry-secret');
    const [v] = await world.versions(componentId);
    expect(v).toMatchObject({ buildKind: 'image', commit: '' });
    expect(v.source).toMatch(new RegExp(`^${userRegistry.address.replace(/\./g, '\\.')}/team/app@sha256:[0-9a-f]{64}$`));
    expect(v.image).toBe(`${world.registry.address}/${tenant}/${componentId}:${v.versionId}`);
    expect(await world.tags(`${tenant}/${componentId}`)).toEqual([v.versionId]);
    expect(await world.run(BuildWorld.pinned(v))).toEqual({ status: 200, body: 'hello from a user image\n' });
  }, 400_000);

  it('fails the pull clearly with wrong credentials and with a missing tag, pushing nothing', async () => {
    const wrong = await world.createComponent(tenant, 'wrong');
    const e1 = await world.requestBuild(tenant, wrong, imageSource(sourceImage), withCredentials(wrong, 'alice', 'not-her-password'));
    const t1 = await world.finished(e1);
    expect(t1.info).toMatchObject({ status: eventsV1.OperationStatus.FAILURE, failedStep: 'pull', message: expect.stringMatching(/refused the credentials/) });
    expect(t1.info?.message).not.toContain('not-her-password');

    const missing = await world.createComponent(tenant, 'missing');
    const e2 = await world.requestBuild(
      tenant,
      missing,
      imageSource(`${userRegistry.address}/team/app:no-such-tag`),
      withCredentials(missing, 'alice', 'alice-registry-secret'),
    );
    const t2 = await world.finished(e2);
    expect(t2.info).toMatchObject({ status: eventsV1.OperationStatus.FAILURE, failedStep: 'pull', message: expect.stringMatching(/no such image or tag/) });
    for (const c of [wrong, missing]) expect(await world.tags(`${tenant}/${c}`)).toEqual([]);
  }, 400_000);
});
