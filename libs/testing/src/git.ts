import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, waitFor } from './ports';
import { spawnProcess, type ManagedProcess } from './process';

export interface GitDaemon {
  readonly port: number;
  /** Where the bare repositories are (<name>.git). */
  readonly dir: string;
  /** git://127.0.0.1:PORT/<name>.git */
  url(name: string): string;
  /** Creates (or replaces) repository `name` with the files of `fromDir` on branch `branch`; answers the commit. */
  publish(name: string, fromDir: string, options?: { branch?: string; tag?: string }): string;
  /** Commits changes (path -> content, null deletes) on top of the branch; answers the new commit. */
  change(name: string, changes: Record<string, string | null>, options?: { branch?: string; message?: string; tag?: string }): string;
  stop(): Promise<void>;
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Wharf Test',
  GIT_AUTHOR_EMAIL: 'test@wharf.invalid',
  GIT_COMMITTER_NAME: 'Wharf Test',
  GIT_COMMITTER_EMAIL: 'test@wharf.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

function git(cwd: string, args: string[]): string {
  return execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();
}

/**
 * A real `git daemon` on 127.0.0.1 serving bare repositories from a temporary directory
 * (git:// protocol, read only), with helpers to publish fixture directories and commit
 * changes to them: what the builder clones in tests.
 */
export async function startGitDaemon(): Promise<GitDaemon> {
  const root = mkdtempSync(join(tmpdir(), 'wharf-git-'));
  const dir = join(root, 'repos');
  const work = join(root, 'work');
  mkdirSync(dir);
  mkdirSync(work);
  const port = await freePort();
  const proc: ManagedProcess = spawnProcess('git', [
    'daemon',
    '--export-all',
    '--reuseaddr',
    '--informative-errors',
    `--base-path=${dir}`,
    '--listen=127.0.0.1',
    `--port=${port}`,
    dir,
  ]);
  await waitFor(`git daemon on 127.0.0.1:${port}`, async () => {
    if (proc.child.exitCode !== null) throw new Error(`git daemon exited: ${proc.output()}`);
    return new Promise<true | undefined>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(undefined));
    });
  });
  const bare = (name: string) => join(dir, `${name}.git`);
  const checkout = (name: string) => join(work, name);
  return {
    port,
    dir,
    url: (name) => `git://127.0.0.1:${port}/${name}.git`,
    publish(name, fromDir, options = {}) {
      const branch = options.branch ?? 'main';
      rmSync(bare(name), { recursive: true, force: true });
      rmSync(checkout(name), { recursive: true, force: true });
      cpSync(fromDir, checkout(name), { recursive: true });
      git(checkout(name), ['init', '-q', '-b', branch]);
      git(checkout(name), ['add', '-A']);
      git(checkout(name), ['commit', '-q', '-m', `fixture ${name}`]);
      if (options.tag) git(checkout(name), ['tag', options.tag]);
      git(work, ['clone', '-q', '--bare', checkout(name), bare(name)]);
      return git(checkout(name), ['rev-parse', 'HEAD']);
    },
    change(name, changes, options = {}) {
      const branch = options.branch ?? 'main';
      const at = checkout(name);
      if (git(at, ['rev-parse', '--abbrev-ref', 'HEAD']) !== branch) git(at, ['checkout', '-q', '-B', branch]);
      for (const [path, content] of Object.entries(changes)) {
        if (content === null) rmSync(join(at, path), { force: true, recursive: true });
        else {
          mkdirSync(dirname(join(at, path)), { recursive: true });
          writeFileSync(join(at, path), content);
        }
      }
      git(at, ['add', '-A']);
      git(at, ['commit', '-q', '--allow-empty', '-m', options.message ?? `change ${Object.keys(changes).join(', ')}`]);
      if (options.tag) git(at, ['tag', options.tag]);
      git(at, ['push', '-q', '--force', '--tags', bare(name), `${branch}:${branch}`]);
      return git(at, ['rev-parse', 'HEAD']);
    },
    async stop() {
      await proc.stop('SIGTERM');
      rmSync(root, { recursive: true, force: true });
    },
  };
}
