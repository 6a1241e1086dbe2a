import { startGitDaemon, startGitHttpServer, type GitDaemon, type GitHttpServer } from '@wharf/testing';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGitUrl } from '../domain/git-source';
import { CheckoutError, GitAdapter, type CheckoutRequest } from './git.adapter';

// Cloning over HTTPS from a git host whose certificate a private CA signed (a company's own
// GitLab or Gitea): trusted once that CA is in the builder's CA bundle, refused with a reason
// that says what to do while it is not. Real git, a real TLS server.
describe('GitAdapter over HTTPS', () => {
  const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
  let git: GitDaemon;
  let https: GitHttpServer;
  let work: string;
  let commit: string;

  beforeAll(async () => {
    git = await startGitDaemon();
    work = mkdtempSync(join(tmpdir(), 'wharf-git-https-'));
    const fixture = join(work, 'fixture');
    mkdirSync(fixture);
    writeFileSync(join(fixture, 'index.html'), 'hello over https\n');
    commit = git.publish('site', fixture);
    https = await startGitHttpServer({ projectRoot: git.dir, tls: true });
    writeFileSync(join(work, 'with-private-ca.crt'), `${readFileSync(SYSTEM_BUNDLE, 'utf8')}\n${https.caPem}`);
    mkdirSync(join(work, 'empty-ca-dir'));
  });

  afterAll(async () => {
    await https?.stop();
    await git?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const checkout = (adapter: GitAdapter, name: string) => {
    const lines: string[] = [];
    const req: CheckoutRequest = {
      url: parseGitUrl(https.url('site')),
      ref: { kind: 'branch', name: 'main' },
      fullClone: false,
      dir: join(work, name, 'src'),
      secretsDir: join(work, name, 'secrets'),
      auth: {},
      maxBytes: 16 << 20,
      onLine: (l) => lines.push(l),
    };
    return { done: adapter.checkout(req), lines, dir: req.dir };
  };

  it('clones when the private CA is in the bundle', async () => {
    const adapter = new GitAdapter({
      idleTimeoutMs: 30_000,
      trust: { caBundle: join(work, 'with-private-ca.crt'), emptyCaDir: join(work, 'empty-ca-dir') },
    });
    const c = checkout(adapter, 'trusted');
    await expect(c.done).resolves.toMatchObject({ commit });
    expect(readFileSync(join(c.dir, 'index.html'), 'utf8')).toBe('hello over https\n');
  });

  it("refuses a host whose CA is not in the bundle, saying so and naming the setting (the system's trust alone does not pass it)", async () => {
    for (const adapter of [
      new GitAdapter({ idleTimeoutMs: 30_000, trust: { caBundle: SYSTEM_BUNDLE, emptyCaDir: join(work, 'empty-ca-dir') } }),
      new GitAdapter({ idleTimeoutMs: 30_000 }),
    ]) {
      const c = checkout(adapter, `untrusted-${Math.random().toString(36).slice(2)}`);
      const err = await c.done.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CheckoutError);
      expect((err as Error).message).toBe(
        `the TLS certificate of 127.0.0.1 is not trusted: add the CA that signed it to the builder's CA bundle (WHARF_BUILDER_CA_BUNDLE)`,
      );
    }
  });
});
