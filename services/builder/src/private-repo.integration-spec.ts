import { create } from '@bufbuild/protobuf';
import { eventsV1, tasksV1 } from '@wharf/contracts';
import { sealSourceCredentials, SecretBox } from '@wharf/secrets';
import { startGitHttpServer, type GitHttpServer } from '@wharf/testing';
import Docker from 'dockerode';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildkitAdapter } from './adapters/buildkit.adapter';
import { hostDebian } from './adapters/host-apt.adapter';
import { StackImagesAdapter } from './adapters/stack-images.adapter';
import { BuildWorld, SHARED_WORK_DIR } from '../test/build-world';

/** Whether `needle` occurs anywhere in the bytes of a stream (a `docker save` tar: every layer, uncompressed). */
async function streamContains(stream: NodeJS.ReadableStream, needles: string[]): Promise<string[]> {
  const found = new Set<string>();
  const keep = Math.max(...needles.map((n) => n.length));
  let tail = Buffer.alloc(0);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const buf = Buffer.concat([tail, chunk]);
    for (const n of needles) if (buf.includes(n)) found.add(n);
    tail = buf.subarray(Math.max(0, buf.length - keep));
  }
  return [...found];
}

// A private repository over smart HTTP with Basic authentication: the token, sealed in the
// task, opens the clone; it never shows in a log line, the Version or any layer of the image,
// and never travels in a URL.
describe('builder: private repositories', () => {
  const world = new BuildWorld();
  const tenant = `p${Date.now().toString(36)}`;
  const token = `glpat-${'s3cr3t'.repeat(4)}`;
  const box = new SecretBox(Buffer.from('cd'.repeat(32), 'hex'));
  let http: GitHttpServer;
  let base: string;

  beforeAll(async () => {
    await world.start();
    await world.startBuilder();
    const docker = new Docker({ socketPath: '/var/run/docker.sock' });
    const buildkit = new BuildkitAdapter({
      dockerCli: '/usr/bin/docker',
      dockerSocket: '/var/run/docker.sock',
      marker: () => 'test',
      scratchDir: SHARED_WORK_DIR,
    });
    base = (await new StackImagesAdapter({ docker, buildkit, ...hostDebian(), workDir: SHARED_WORK_DIR }).ensure('static', () => undefined)).ref;
    const dir = mkdtempSync(join(tmpdir(), 'wharf-private-'));
    // Copies the whole build context into the image and lists it, so a leaked .git would show.
    writeFileSync(
      join(dir, 'Dockerfile'),
      `ARG BASE\nFROM \${BASE}\nCOPY . /srv/www\nRUN echo ${tenant} && ls -a /srv/www\nCMD ["busybox", "httpd", "-f", "-p", "8080", "-h", "/srv/www"]\n`,
    );
    writeFileSync(join(dir, 'index.html'), 'hello from a private repository\n');
    world.git.publish('private', dir);
    rmSync(dir, { recursive: true, force: true });
    http = await startGitHttpServer({ projectRoot: world.git.dir, username: 'oauth2', password: token });
  }, 600_000);

  afterAll(async () => {
    await http?.stop();
    await world.stop();
  }, 60_000);

  const source = () => ({ kind: { case: 'git' as const, value: { url: http.url('private'), branch: 'main' } } });

  it('fails without credentials, saying the repository is private or the credentials wrong', async () => {
    const componentId = await world.createComponent(tenant, 'nocreds');
    const eventId = await world.requestBuild(tenant, componentId, source(), { options: { buildArgs: { BASE: base } } });
    const t = await world.finished(eventId);
    expect(t.info).toMatchObject({
      status: eventsV1.OperationStatus.FAILURE,
      failedStep: 'clone',
      message: expect.stringMatching(/^authentication to http:\/\/127\.0\.0\.1:\d+\/private\.git failed/),
    });
  }, 300_000);

  it('clones with the sealed token and keeps it out of logs, the Version, URLs and the image', async () => {
    const componentId = await world.createComponent(tenant, 'withtoken');
    const credentials = sealSourceCredentials(box, componentId, { gitUsername: 'oauth2', gitToken: token });
    const eventId = await world.requestBuild(tenant, componentId, source(), {
      options: create(tasksV1.BuildOptionsSchema, { buildArgs: { BASE: base }, credentials }),
    });
    const t = await world.finished(eventId);
    world.dump(t);
    expect(t.info?.status).toBe(eventsV1.OperationStatus.SUCCESS);
    const basic = Buffer.from(`oauth2:${token}`).toString('base64');
    const json = (x: unknown) => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    const everything = json(t.entries.map((e) => e.body.value));
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(basic);
    // The build context had no .git: only the files of the commit.
    expect(t.lines.filter((l) => /^#\d+ \d+\.\d+ /.test(l)).map((l) => l.replace(/^#\d+ \d+\.\d+ /, ''))).toEqual(
      expect.arrayContaining(['.', '..', 'Dockerfile', 'index.html']),
    );
    expect(t.lines.some((l) => /^#\d+ \d+\.\d+ \.git$/.test(l))).toBe(false);
    expect(http.authorizations).toContain(`Basic ${basic}`);
    expect(http.paths.join('\n')).not.toContain(token);
    const [v] = await world.versions(componentId);
    expect(json(v)).not.toContain(token);
    const image = BuildWorld.pinned(v);
    expect(await world.run(image)).toEqual({ status: 200, body: 'hello from a private repository\n' });
    const saved = await world.docker.getImage(image).get();
    expect(await streamContains(saved, [token, basic])).toEqual([]);
  }, 300_000);
});
