import { create } from '@bufbuild/protobuf';
import { eventsV1, tasksV1 } from '@wharf/contracts';
import { sealSourceCredentials, SecretBox } from '@wharf/secrets';
import { makeTask } from '@wharf/tasks';
import { BuildkitProgress } from '../domain/buildkit-progress';
import { repoFiles, type RepoFiles } from '../domain/repo-files';
import { ImageBuildError, type ImageBuildRequest } from '../adapters/buildkit.adapter';
import { CheckoutError, type CheckoutRequest } from '../adapters/git.adapter';
import { RegistryError } from '../adapters/registry.adapter';
import type { VersionInit } from '../adapters/versions.adapter';
import { BuildService } from './build.service';
import type { BuildSettings, OperationLog } from './ports';

/** An OperationLog that keeps what it was told, in order. */
class RecordingLog implements OperationLog {
  readonly events: string[] = [];
  readonly lines: string[] = [];
  step(name: string) {
    this.events.push(`start ${name}`);
    return {
      line: (text: string) => void this.lines.push(`${name}: ${text}`),
      ok: () => void this.events.push(`ok ${name}`),
      fail: (message: string) => void this.events.push(`fail ${name}: ${message}`),
    };
  }
  done() {
    this.events.push('done');
  }
}

const settings: BuildSettings = {
  registry: { address: 'reg.test:5000', auth: { username: 'wharf', password: 'registry-password' } },
  caBundle: '/etc/ssl/certs/ca-certificates.crt',
  limits: { memoryBytes: 512 * 1048576, cpus: 1 },
  timeoutMs: 60_000,
  maxRepoBytes: 1e9,
  keepImages: false,
  defaultPort: 8080,
};
const key = Buffer.alloc(32, 9);

function world(
  options: {
    files?: RepoFiles;
    recorded?: string;
    exists?: boolean;
    buildFails?: ImageBuildError;
    checkoutFails?: CheckoutError;
    pushFails?: boolean;
    storeDown?: boolean;
  } = {},
) {
  const recorded: VersionInit[] = [];
  const pushed: string[] = [];
  const enqueued: tasksV1.Task[] = [];
  const builds: ImageBuildRequest[] = [];
  const checkouts: CheckoutRequest[] = [];
  const written = new Map<string, string>();
  /** Registry calls, the record and the workspace's disposal, in the order they happened. */
  const calls: string[] = [];
  const service = new BuildService(
    settings,
    {
      facts: async () => {
        if (options.storeDown) throw new Error('etcd: connect ECONNREFUSED 127.0.0.1:2379');
        return {
          exists: options.exists ?? true,
          spec: create(eventsV1.ComponentSpecSchema, { ports: [{ port: 3000 }] }),
          recorded: options.recorded ? create(eventsV1.VersionRecordedSchema, { versionId: options.recorded }) : undefined,
        };
      },
      record: async (init) => {
        calls.push('record');
        recorded.push(init);
        return { version: create(eventsV1.VersionRecordedSchema, init), appended: true };
      },
    },
    {
      workspace: () => ({ root: '/ws', source: '/ws/src', secrets: '/ws/secrets', gen: '/ws/gen', dispose: () => void calls.push('dispose') }),
      checkout: async (req) => {
        checkouts.push(req);
        req.onLine(`cloning with token ${req.auth.token ?? '(none)'}`);
        if (options.checkoutFails) throw options.checkoutFails;
        return { commit: 'c'.repeat(40), bytes: 1000 };
      },
      files: () => options.files ?? repoFiles(['package.json', 'server.js'], { 'package.json': '{"scripts":{"start":"node server.js"}}' }),
      inside: (root, path) => (path ? `${root}/${path}` : root),
      exists: () => true,
      write: (path, content) => void written.set(path, content),
      read: (path) => written.get(path),
    },
    { ensure: async (name) => ({ ref: `wharf-stack/${name}:bookworm-x`, version: '18.20.4' }) },
    {
      build: async (req) => {
        builds.push(req);
        req.onLine('#5 [stage-0 4/5] RUN npm ci');
        if (options.buildFails) throw options.buildFails;
        return { imageId: 'sha256:1', progress: new BuildkitProgress() };
      },
    },
    {
      pull: async () => undefined,
      tag: async (source, repo, tag) => void calls.push(`tag ${source} ${repo}:${tag}`),
      push: async (repo, tag) => {
        calls.push(`push ${repo}:${tag}`);
        if (options.pushFails) throw new RegistryError('push reg.test:5000/x: the registry is unreachable', ['a: Preparing']);
        pushed.push(`${repo}:${tag}`);
        return { digest: `sha256:${'d'.repeat(64)}` };
      },
      inspect: async (ref) => {
        calls.push(`inspect ${ref}`);
        return { id: 'sha256:1', size: 123, repoDigests: [] };
      },
      untag: async (ref) => void calls.push(`untag ${ref}`),
    },
    {
      enqueue: async (task) => {
        calls.push('enqueue');
        enqueued.push(task);
      },
    },
    new SecretBox(key),
  );
  return { service, recorded, pushed, enqueued, builds, checkouts, written, calls };
}

const header = { eventId: 'evt-1', tenantId: 'acme', componentId: 'acme.shop.api' };
const baseTask = () =>
  makeTask('build', { ...header, source: { kind: { case: 'git', value: { url: 'https://git.test/acme/api.git', branch: 'main' } } } }).kind
    .value as tasksV1.BuildTask;
const gitTask = (more: Partial<tasksV1.BuildTask> = {}): tasksV1.BuildTask => ({ ...baseTask(), ...more });
const run = (w: ReturnType<typeof world>, task: tasksV1.BuildTask, signal = new AbortController().signal) => {
  const log = new RecordingLog();
  return w.service.run(task, { log, signal }).then((outcome) => ({ outcome, log }));
};

describe('BuildService', () => {
  it('runs clone, detect, build, push, record in order and records one version with what was built', async () => {
    const w = world();
    const { outcome, log } = await run(w, gitTask());
    expect(log.events).toEqual([
      'start clone',
      'ok clone',
      'start detect',
      'ok detect',
      'start build',
      'ok build',
      'start push',
      'ok push',
      'start record',
      'ok record',
      'done',
    ]);
    expect(outcome).toMatchObject({ kind: 'recorded', deploying: false });
    expect(w.pushed).toEqual([`reg.test:5000/acme/acme.shop.api:${(outcome as { versionId: string }).versionId}`]);
    expect(w.recorded).toHaveLength(1);
    expect(w.recorded[0]).toMatchObject({ buildEventId: 'evt-1', buildKind: 'source', stack: 'nodejs 18.20.4', commit: 'c'.repeat(40), status: 'success' });
    expect(w.recorded[0].source).toBe(`https://git.test/acme/api.git#${'c'.repeat(40)}`);
    // The component's port is the generated image's $PORT; the CA bundle is a build secret.
    expect(w.written.get('/ws/gen/Dockerfile')).toContain('PORT=3000');
    expect(w.builds[0].secrets).toEqual({ 'wharf-ca': settings.caBundle });
  });

  it('pushes the tag the build made, reads its size beside the push, and drops the local tag and checkout only once the version is recorded', async () => {
    const w = world();
    const { outcome } = await run(w, gitTask());
    const image = `reg.test:5000/acme/acme.shop.api:${(outcome as { versionId: string }).versionId}`;
    expect(w.builds[0].tag).toBe(image);
    expect(w.calls).toEqual([`push ${image}`, `inspect ${image}`, 'record', `untag ${image}`, 'dispose']);
    expect(w.recorded[0]).toMatchObject({ image, sizeBytes: 123n });
  });

  it('removes the checkout even when the push fails', async () => {
    const w = world({ pushFails: true });
    await w.service.run(gitTask(), { log: new RecordingLog(), signal: new AbortController().signal, lastAttempt: true });
    expect(w.calls).toContain('dispose');
    expect(w.calls).not.toContain('record');
  });

  it('records nothing again for a task delivered after its version was recorded', async () => {
    const w = world({ recorded: 'v-already' });
    const { outcome, log } = await run(w, gitTask());
    expect(outcome).toEqual({ kind: 'already-recorded', versionId: 'v-already', deploying: false });
    expect(w.checkouts).toHaveLength(0);
    expect(w.recorded).toHaveLength(0);
    expect(log.events).toEqual(['start record', 'ok record', 'done']);
  });

  it('hands a build that deploys to app-manager under the same event id and leaves done to it', async () => {
    const w = world();
    const { outcome, log } = await run(w, gitTask({ deployAfter: true }));
    expect(outcome).toMatchObject({ kind: 'recorded', deploying: true });
    expect(log.events).not.toContain('done');
    expect(w.enqueued).toHaveLength(1);
    expect(w.enqueued[0].kind).toMatchObject({ case: 'upgrade', value: { ...header, versionId: (outcome as { versionId: string }).versionId } });
    // The local tag is gone before app-manager (which may pull that tag on the same engine) hears of the version.
    const untagged = w.calls.findIndex((c) => c.startsWith('untag '));
    expect(untagged).toBeGreaterThan(w.calls.indexOf('record'));
    expect(w.calls.indexOf('enqueue')).toBeGreaterThan(untagged);
  });

  it('fails the build step with the failing instruction and its last lines, and pushes nothing', async () => {
    const progress = new BuildkitProgress();
    for (const l of [
      '#8 [stage-0 4/5] RUN npm ci',
      '#8 1.2 npm ERR! 404 Not Found - GET https://registry.npmjs.org/nope',
      '#8 ERROR: process "/bin/sh -c npm ci" did not complete successfully: exit code: 1',
    ])
      progress.push(l);
    const w = world({ buildFails: new ImageBuildError('x', progress, ['#8 1.2 npm ERR! 404 Not Found - GET https://registry.npmjs.org/nope'], false) });
    const { outcome, log } = await run(w, gitTask());
    expect(outcome).toEqual({ kind: 'failed', step: 'build', reason: '[stage-0 4/5] RUN npm ci failed with exit code 1' });
    const failure = log.events.find((e) => e.startsWith('fail build'))!;
    expect(failure).toContain('npm ERR! 404 Not Found');
    expect(w.pushed).toEqual([]);
    expect(w.recorded).toEqual([]);
    expect(log.events.at(-1)).toBe('done');
  });

  it('says a build killed for memory exceeded its limit', async () => {
    const progress = new BuildkitProgress();
    for (const l of ['#6 [stage-0 2/3] RUN make', '#6 ERROR: executor failed running [/bin/sh -c make]: exit code: 137']) progress.push(l);
    const w = world({ buildFails: new ImageBuildError('x', progress, [], false, { limited: 1, oomKilled: true }) });
    const { outcome } = await run(w, gitTask());
    expect(outcome).toMatchObject({
      kind: 'failed',
      step: 'build',
      reason: 'the build exceeded its memory limit of 512 MiB in [stage-0 2/3] RUN make and was killed',
    });
  });

  it('refuses bad input before cloning, naming the field', async () => {
    for (const [source, reason] of [
      [{ url: '--upload-pack=touch /tmp/x', branch: 'main' }, /source\.git\.url: .* looks like a command-line option/],
      [{ url: 'file:///etc', branch: 'main' }, /scheme file:\/\/ is not allowed/],
      [{ url: 'https://git.test/a.git', branch: '--orphan' }, /source\.git\.branch: .* looks like a command-line option/],
      [{ url: 'https://git.test/a.git', branch: 'main', subDir: '../../etc' }, /source\.git\.sub_dir: .* leaves the repository/],
    ] as const) {
      const w = world();
      const task = gitTask({ source: create(tasksV1.BuildSourceSchema, { kind: { case: 'git', value: source } }) });
      const { outcome } = await run(w, task);
      expect(outcome).toMatchObject({ kind: 'failed', step: 'clone', reason: expect.stringMatching(reason) });
      expect(w.checkouts).toHaveLength(0);
    }
  });

  it('fails detect with what it looked for when no language is found', async () => {
    const w = world({ files: repoFiles(['README.md'], {}) });
    const { outcome } = await run(w, gitTask());
    expect(outcome).toMatchObject({ kind: 'failed', step: 'detect', reason: expect.stringMatching(/^cannot detect the language: looked for a Dockerfile/) });
    expect(w.builds).toHaveLength(0);
  });

  it('opens sealed credentials for the clone and redacts them from every line', async () => {
    const w = world();
    const credentials = sealSourceCredentials(new SecretBox(key), header.componentId, { gitToken: 'ghp_supersecret_token' });
    const { log } = await run(w, gitTask({ options: create(tasksV1.BuildOptionsSchema, { credentials }) }));
    expect(w.checkouts[0].auth.token).toBe('ghp_supersecret_token');
    expect(log.lines.join('\n')).not.toContain('ghp_supersecret_token');
    expect(log.lines).toContain('clone: cloning with token ***');
  });

  it('refuses credentials sealed for another component', async () => {
    const w = world();
    const credentials = sealSourceCredentials(new SecretBox(key), 'acme.other', { gitToken: 'ghp_supersecret_token' });
    const { outcome } = await run(w, gitTask({ options: create(tasksV1.BuildOptionsSchema, { credentials }) }));
    expect(outcome).toMatchObject({ kind: 'failed', step: 'clone', reason: expect.stringContaining('credentials.git_token: cannot be opened') });
  });

  it("reports a failed clone with git's last lines", async () => {
    const w = world({
      checkoutFails: new CheckoutError('branch main not found in https://git.test/acme/api.git', ['fatal: Remote branch main not found in upstream origin']),
    });
    const { outcome, log } = await run(w, gitTask());
    expect(outcome).toMatchObject({ kind: 'failed', step: 'clone', reason: 'branch main not found in https://git.test/acme/api.git' });
    expect(log.events.find((e) => e.startsWith('fail clone'))).toContain('fatal: Remote branch main not found');
  });

  it("retries when the data center's registry is unreachable, and fails the push step on the last attempt, recording nothing", async () => {
    const w = world({ pushFails: true });
    const first = await run(w, gitTask());
    expect(first.outcome).toMatchObject({ kind: 'retry', step: 'push', reason: expect.stringContaining('unreachable') });
    expect(first.log.events.some((e) => e.startsWith('fail'))).toBe(false);
    const last = await w.service.run(gitTask(), { log: new RecordingLog(), signal: new AbortController().signal, lastAttempt: true });
    expect(last).toMatchObject({ kind: 'failed', step: 'push', reason: expect.stringContaining('unreachable') });
    expect(w.recorded).toEqual([]);
  });

  it('retries when the event store cannot be read, reporting no failure until the last attempt', async () => {
    const w = world({ storeDown: true });
    expect((await run(w, gitTask())).outcome).toMatchObject({ kind: 'retry', step: 'clone', reason: expect.stringContaining('ECONNREFUSED') });
    const log = new RecordingLog();
    const last = await w.service.run(gitTask(), { log, signal: new AbortController().signal, lastAttempt: true });
    expect(last).toMatchObject({ kind: 'failed', step: 'clone', reason: expect.stringContaining('reading the component from the event store failed') });
    expect(w.checkouts).toHaveLength(0);
  });

  it('abandons a build when the builder stops, reporting no failure', async () => {
    const w = world();
    const stop = new AbortController();
    stop.abort();
    const { outcome, log } = await run(w, gitTask(), stop.signal);
    expect(outcome).toEqual({ kind: 'abandoned' });
    expect(log.events.some((e) => e.startsWith('fail'))).toBe(false);
  });

  it('refuses to build for a component that no longer exists', async () => {
    const w = world({ exists: false });
    const { outcome } = await run(w, gitTask());
    expect(outcome).toMatchObject({ kind: 'failed', step: 'clone', reason: expect.stringContaining('does not exist') });
  });
});
