import { eventsV1 } from '@wharf/contracts';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@wharf/testing';
import { sealSourceCredentials, SecretBox } from '@wharf/secrets';
import { BuildWorld, FIXTURES, SHARED_WORK_DIR } from '../test/build-world';

// Input that must never reach git or Docker as an instruction, and sources that cannot be
// built: each build fails with its reason in the failing step, records nothing and pushes
// nothing.
describe('builder: bad input and unbuildable sources', () => {
  const world = new BuildWorld();
  const tenant = `b${Date.now().toString(36)}`;
  const canary = join(tmpdir(), `wharf-builder-pwned-${process.pid}`);
  let n = 0;

  beforeAll(async () => {
    await world.start();
    await world.startBuilder({ WHARF_BUILDER_CONCURRENCY: '4' });
    world.git.publish('nodejs', join(FIXTURES, 'nodejs'));
    const readme = mkdtempSync(join(tmpdir(), 'wharf-readme-'));
    writeFileSync(join(readme, 'README.md'), 'no code here\n');
    mkdirSync(join(readme, 'docs'));
    writeFileSync(join(readme, 'docs', 'a.md'), 'a\n');
    symlinkSync('/etc', join(readme, 'escape'));
    world.git.publish('readme', readme);
    rmSync(readme, { recursive: true, force: true });
  }, 120_000);

  afterAll(async () => {
    rmSync(canary, { force: true });
    await world.stop();
  }, 60_000);

  async function fails(source: ReturnType<BuildWorld['gitSource']>, options: { ref?: string } = {}) {
    const componentId = await world.createComponent(tenant, `c${++n}`);
    const eventId = await world.requestBuild(tenant, componentId, source, { options });
    const t = await world.finished(eventId, 120_000);
    world.dump(t);
    expect(t.info?.status).toBe(eventsV1.OperationStatus.FAILURE);
    expect(await world.versions(componentId)).toEqual([]);
    expect(await world.tags(`${tenant}/${componentId}`)).toEqual([]);
    return { failedStep: t.info!.failedStep, message: t.info!.message, t };
  }

  const url = (u: string) => ({ kind: { case: 'git' as const, value: { url: u, branch: 'main' } } });

  it.each([
    [`--upload-pack=touch ${canary}`, /looks like a command-line option/],
    [`-u touch ${canary}`, /looks like a command-line option/],
    [`ext::sh -c touch% ${canary}`, /white space|remote helper/],
    ['ext::ssh', /remote helper transport/],
    ['fd::17', /remote helper transport/],
    ['file:///etc', /scheme file:\/\/ is not allowed/],
    ['ftp://127.0.0.1/x.git', /scheme ftp:\/\/ is not allowed/],
    ['/srv/git/app.git', /local path/],
    ['../../app', /local path/],
    ['https://user:token@127.0.0.1/x.git', /must not carry credentials/],
  ])(
    'refuses the URL %j before running git',
    async (u, reason) => {
      const r = await fails(url(u));
      expect(r.failedStep).toBe('clone');
      expect(r.message).toMatch(reason);
      expect(r.t.lines.some((l) => l.startsWith('cloning'))).toBe(false);
      expect(existsSync(canary)).toBe(false);
    },
    120_000,
  );

  it.each([
    [{ branch: '--upload-pack=touch /tmp/x' }, {}, /source\.git\.branch: .* looks like a command-line option/],
    [{ branch: 'main' }, { ref: '--output=/tmp/x' }, /options\.ref: .* looks like a command-line option/],
    [{ branch: 'a..b' }, {}, /not a valid ref name/],
    [{ branch: 'main', subDir: '../..' }, {}, /sub_dir: .* leaves the repository/],
    [{ branch: 'main', dockerfile: '/etc/passwd' }, {}, /dockerfile: .* must be relative/],
  ])(
    'refuses the ref or path %j %j',
    async (more, options, reason) => {
      const r = await fails(world.gitSource('nodejs', more), options);
      expect(r.failedStep).toBe('clone');
      expect(r.message).toMatch(reason);
    },
    120_000,
  );

  it('fails an unreachable repository, a missing one, a missing branch and a missing commit, saying which', async () => {
    const closed = await freePort();
    const [unreachable, missing, branch, commit] = await Promise.all([
      fails(url(`git://127.0.0.1:${closed}/nodejs.git`)),
      fails(url(world.git.url('no-such-repo'))),
      fails(world.gitSource('nodejs', { branch: 'no-such-branch' })),
      fails(world.gitSource('nodejs'), { ref: 'f'.repeat(40) }),
    ]);
    expect(unreachable).toMatchObject({
      failedStep: 'clone',
      message: expect.stringMatching(/^repository git:\/\/127\.0\.0\.1:\d+\/nodejs\.git is unreachable/),
    });
    expect(missing).toMatchObject({ failedStep: 'clone', message: expect.stringMatching(/^repository git:\/\/.*no-such-repo\.git not found/) });
    expect(branch).toMatchObject({ failedStep: 'clone', message: expect.stringMatching(/^branch no-such-branch not found in git:\/\//) });
    expect(commit).toMatchObject({ failedStep: 'clone', message: expect.stringMatching(/^commit f{40} not found in git:\/\//) });
  }, 240_000);

  it('takes an SSH source through ssh with the sealed key (refused here: nothing listens), leaving no key file behind', async () => {
    const closed = await freePort();
    const componentId = await world.createComponent(tenant, 'ssh');
    const key = `-----BEGIN OPENSSH PRIVATE KEY-----\n${'b3BlbnNzaC1rZXktdjEAAAAA'.repeat(3)}\n-----END OPENSSH PRIVATE KEY-----\n`;
    const credentials = sealSourceCredentials(new SecretBox(Buffer.from('cd'.repeat(32), 'hex')), componentId, { sshPrivateKey: key });
    const eventId = await world.requestBuild(tenant, componentId, url(`ssh://git@127.0.0.1:${closed}/srv/app.git`), { options: { credentials } });
    const t = await world.finished(eventId, 120_000);
    world.dump(t);
    expect(t.info).toMatchObject({ status: eventsV1.OperationStatus.FAILURE, failedStep: 'clone' });
    expect(t.info?.message).toMatch(new RegExp(`^repository ssh://127\\.0\\.0\\.1:${closed}/srv/app\\.git is unreachable: .*Connection refused`));
    expect(JSON.stringify(t.lines)).not.toContain('b3BlbnNzaC1rZXktdjEAAAAA');
    expect(readdirSync(join(SHARED_WORK_DIR, 'builds')).filter((d) => d.startsWith(eventId.replace(/[^A-Za-z0-9_-]/g, '_')))).toEqual([]);
  }, 120_000);

  it('fails a source whose language cannot be detected, naming what it looked for', async () => {
    const r = await fails(world.gitSource('readme'));
    expect(r.failedStep).toBe('detect');
    expect(r.message).toMatch(/^cannot detect the language: looked for a Dockerfile, package\.json/);
    expect(r.message).toContain('found README.md, docs/, escape');
  }, 120_000);

  it('fails a missing sub-directory and one that is a link out of the repository', async () => {
    const [missing, escape] = await Promise.all([fails(world.gitSource('readme', { subDir: 'nope' })), fails(world.gitSource('readme', { subDir: 'escape' }))]);
    expect(missing).toMatchObject({ failedStep: 'detect', message: 'sub-directory "nope" does not exist in the repository' });
    expect(escape).toMatchObject({ failedStep: 'detect', message: 'sub-directory "escape" points outside the repository' });
  }, 120_000);

  // Last: it stops this world's mq. The probe is an Ack as the builder (mq answers not found), so
  // ready means mq answered the builder's certificate; once mq is gone /readyz says 503 naming mq.
  it('is ready while mq answers the builder and not ready, naming mq, once mq is gone', async () => {
    const readyz = async () => {
      const res = await fetch(`${world.builders[0].url}/readyz`);
      return { code: res.status, body: (await res.json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> } };
    };
    expect(await readyz()).toMatchObject({ code: 200, body: { status: 'ready', checks: { mq: { ok: true } } } });
    await world.mq.stop();
    const after = await waitFor(
      'the builder not ready',
      async () => {
        const r = await readyz();
        return r.code === 503 ? r : undefined;
      },
      30_000,
    );
    expect(after.body).toMatchObject({ status: 'not_ready', checks: { mq: { ok: false }, etcd: { ok: true }, docker: { ok: true } } });
    expect(after.body.checks.mq.detail).toMatch(/^mq /);
  }, 60_000);
});
