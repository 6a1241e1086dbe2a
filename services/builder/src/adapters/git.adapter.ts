import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import type { GitRef, GitUrl } from '../domain/git-source';
import { directorySize } from './workspace.adapter';

export interface CheckoutRequest {
  url: GitUrl;
  ref: GitRef;
  /** The whole history instead of one commit. */
  fullClone: boolean;
  /** Empty directory the source is checked out into. */
  dir: string;
  /** Private files (SSH key, known_hosts) go here, outside the checkout and so outside any image. */
  secretsDir: string;
  auth: { username?: string; token?: string; sshPrivateKey?: string; sshKnownHosts?: string };
  maxBytes: number;
  signal?: AbortSignal;
  onLine(line: string): void;
}

export interface Checkout {
  commit: string;
  bytes: number;
}

/** Why a checkout failed, in words a user can act on; `lines` are git's last lines. */
export class CheckoutError extends Error {
  constructor(
    message: string,
    readonly lines: string[],
  ) {
    super(message);
    this.name = 'CheckoutError';
  }
}

const PROTOCOLS = 'https:http:ssh:git';

export interface GitAdapterOptions {
  idleTimeoutMs: number;
  sizeCheckIntervalMs?: number;
  /**
   * The CA bundle HTTPS remotes are checked against (the one builds trust, so a git host with a
   * private CA is trusted by both once it is in the bundle), and an empty directory: git then
   * reads only that file. Left to itself, Debian's git reads the bundle and the hashed
   * /etc/ssl/certs directory too, the same CAs twice (~575 certificates): a small clone took
   * 113 ms so, 62-80 ms with the bundle alone (git alone, on this project's machines). Unset:
   * git's own defaults.
   */
  trust?: { caBundle: string; emptyCaDir: string };
}

/**
 * Checks sources out with simple-git. Only one commit is fetched unless asked otherwise
 * (depth 1 of the branch or tag, or of the commit itself), git never prompts, only network
 * transports are allowed (GIT_ALLOW_PROTOCOL, on top of the URL validation), and
 * credentials travel in the environment of the git process only: a token as an HTTP header
 * (GIT_CONFIG_*), never in the URL or .git/config; an SSH key as a 0600 file outside the
 * checkout. The .git directory is removed once the commit is known, so nothing of the
 * transport reaches the build context.
 */
export class GitAdapter {
  constructor(private readonly options: GitAdapterOptions = { idleTimeoutMs: 120_000 }) {}

  async checkout(req: CheckoutRequest): Promise<Checkout> {
    mkdirSync(req.dir, { recursive: true });
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const lines: string[] = [];
    let tooBig = false;
    const sizeTimer = setInterval(() => {
      // Bounded by the limit itself: the walk stops counting once past it.
      if (directorySize(req.dir, req.maxBytes + 1) > req.maxBytes) {
        tooBig = true;
        stop.abort();
      }
    }, this.options.sizeCheckIntervalMs ?? 1000);
    const git = this.git(req, stop.signal, (line) => {
      lines.push(line);
      if (lines.length > 30) lines.shift();
      req.onLine(line);
    });
    try {
      await this.fetch(git, req);
      const commit = headCommit(join(req.dir, '.git')) ?? (await git.cwd(req.dir).revparse(['HEAD'])).trim();
      rmSync(join(req.dir, '.git'), { recursive: true, force: true });
      const bytes = directorySize(req.dir, req.maxBytes + 1);
      if (bytes > req.maxBytes) tooBig = true;
      if (tooBig) throw new CheckoutError(`the repository is larger than the limit of ${mib(req.maxBytes)}`, lines);
      return { commit, bytes };
    } catch (err) {
      if (err instanceof CheckoutError) throw err;
      if (tooBig) throw new CheckoutError(`the repository is larger than the limit of ${mib(req.maxBytes)} (stopped while cloning)`, lines);
      if (req.signal?.aborted) throw new CheckoutError('cancelled while cloning', lines);
      throw new CheckoutError(explainGitError(req, (err as Error).message, lines, this.options.idleTimeoutMs), lines);
    } finally {
      clearInterval(sizeTimer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async fetch(git: SimpleGit, req: CheckoutRequest): Promise<void> {
    const depth = req.fullClone ? [] : ['--depth', '1'];
    const { ref } = req;
    if (ref.kind !== 'commit') {
      await git.clone(req.url.url, req.dir, [...depth, '--single-branch', '--no-tags', '--branch', ref.name]);
      return;
    }
    const repo = git.cwd(req.dir);
    await repo.init();
    await repo.addRemote('origin', req.url.url);
    if (ref.sha.length === 40 && !req.fullClone) {
      try {
        // Servers allow fetching a commit by id when it is reachable (protocol v2 does by default).
        await repo.fetch('origin', ref.sha, [...depth, '--no-tags']);
        await repo.checkout(['--detach', 'FETCH_HEAD']);
        return;
      } catch (err) {
        req.onLine(`fetching ${ref.sha} alone failed (${firstLine((err as Error).message)}); fetching the whole history`);
      }
    }
    await repo.fetch('origin', ['--tags']);
    let full: string;
    try {
      full = (await repo.revparse(['--verify', '--end-of-options', `${ref.sha}^{commit}`])).trim();
    } catch {
      throw new CheckoutError(`commit ${ref.sha} not found in ${req.url.display}`, []);
    }
    await repo.checkout(['--detach', full]);
  }

  private git(req: CheckoutRequest, signal: AbortSignal, onLine: (line: string) => void): SimpleGit {
    const env: Record<string, string> = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: req.secretsDir,
      GIT_TERMINAL_PROMPT: '0',
      GIT_ALLOW_PROTOCOL: PROTOCOLS,
      GIT_CONFIG_NOSYSTEM: '1',
      LC_ALL: 'C',
    };
    const allow = ['GIT_TERMINAL_PROMPT', 'GIT_ALLOW_PROTOCOL', 'GIT_CONFIG_NOSYSTEM'];
    const trust = this.options.trust;
    if (trust) {
      Object.assign(env, { GIT_SSL_CAINFO: trust.caBundle, GIT_SSL_CAPATH: trust.emptyCaDir });
      allow.push('GIT_SSL_CAINFO', 'GIT_SSL_CAPATH');
    }
    const unsafe: Record<string, boolean> = {};
    const { token, username, sshPrivateKey, sshKnownHosts } = req.auth;
    if (token) {
      const basic = Buffer.from(`${username || 'x-access-token'}:${token}`).toString('base64');
      Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` });
      allow.push('GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0');
      unsafe.allowUnsafeConfigEnvCount = true;
    }
    if (req.url.scheme === 'ssh') {
      const ssh = ['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20'];
      if (!/^[A-Za-z0-9._/-]+$/.test(req.secretsDir)) throw new CheckoutError("the builder's work directory has characters git's ssh command cannot take", []);
      mkdirSync(req.secretsDir, { recursive: true, mode: 0o700 });
      const knownHosts = join(req.secretsDir, 'known_hosts');
      writeFileSync(knownHosts, sshKnownHosts ? `${sshKnownHosts.trim()}\n` : '', { mode: 0o600 });
      ssh.push('-o', `UserKnownHostsFile=${knownHosts}`, '-o', `StrictHostKeyChecking=${sshKnownHosts ? 'yes' : 'accept-new'}`);
      if (sshPrivateKey) {
        const keyFile = join(req.secretsDir, 'id_key');
        writeFileSync(keyFile, sshPrivateKey.endsWith('\n') ? sshPrivateKey : `${sshPrivateKey}\n`, { mode: 0o600 });
        chmodSync(keyFile, 0o600);
        ssh.push('-i', keyFile, '-o', 'IdentitiesOnly=yes');
      }
      env.GIT_SSH_COMMAND = ssh.join(' ');
      allow.push('GIT_SSH_COMMAND');
      unsafe.allowUnsafeSshCommand = true;
    }
    const git = simpleGit({
      baseDir: req.dir,
      maxConcurrentProcesses: 1,
      abort: signal,
      timeout: { block: this.options.idleTimeoutMs },
      allowEnvironment: allow,
      unsafe,
    }).env(env);
    // git's messages are on stderr (stdout carries command results such as rev-parse's).
    git.outputHandler((_cmd, _stdout, stderr) => {
      for (const stream of [stderr]) {
        let rest = '';
        stream.on('data', (chunk: Buffer) => {
          rest += chunk.toString('utf8');
          const parts = rest.split(/\r\n|\n|\r/);
          rest = parts.pop() ?? '';
          // Progress counters ("Receiving objects:  40% (2/5)") only the final count of each.
          for (const p of parts) if (p.trim() && !/\d+% \(\d+\/\d+\)(?!.*done)/.test(p)) onLine(p.trimEnd());
        });
        stream.on('end', () => rest.trim() && onLine(rest));
      }
    });
    return git;
  }
}

const mib = (bytes: number) => `${Math.round(bytes / 1048576)} MiB`;
const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * The commit HEAD names, read from the files a fresh clone or detached checkout leaves
 * (HEAD, the branch's loose ref or packed-refs): one git process less per build. Undefined
 * when the layout is anything else; the caller asks git then.
 */
export function headCommit(gitDir: string): string | undefined {
  const read = (name: string) => {
    try {
      return readFileSync(join(gitDir, name), 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const head = read('HEAD');
  if (!head) return undefined;
  if (OBJECT_ID.test(head)) return head;
  const ref = /^ref: (refs\/heads\/[^\s]+)$/.exec(head)?.[1];
  if (!ref || ref.split('/').includes('..')) return undefined;
  const loose = read(ref);
  if (loose !== undefined) return OBJECT_ID.test(loose) ? loose : undefined;
  for (const line of (read('packed-refs') ?? '').split('\n')) {
    const [id, name] = line.split(' ');
    if (name === ref && OBJECT_ID.test(id)) return id;
  }
  return undefined;
}
const firstLine = (text: string) => text.trim().split('\n')[0];

/**
 * git's error in words a user can act on. HTTP codes are matched as git prints them ("returned
 * error: 403"), never as bare digits: a port like 34037 in the URL is not a 403.
 */
export function explainGitError(req: CheckoutRequest, message: string, lines: string[], idleTimeoutMs: number): string {
  const text = `${message}\n${lines.join('\n')}`;
  const where = req.url.display;
  const ref = req.ref.kind === 'commit' ? `commit ${req.ref.sha}` : `${req.ref.kind === 'branch' ? 'branch' : 'tag or branch'} ${req.ref.name}`;
  if (/Remote branch .* not found|couldn't find remote ref|not our ref/i.test(text)) return `${ref} not found in ${where}`;
  if (
    /Authentication failed|could not read Username|could not read Password|Permission denied \(publickey|terminal prompts disabled|returned error: 403|\b403 Forbidden/i.test(
      text,
    )
  ) {
    return `authentication to ${where} failed: the repository is private or the credentials are wrong (give a token or an SSH key in the component's build credentials)`;
  }
  if (/Host key verification failed/i.test(text)) return `the SSH host key of ${req.url.host} does not match the known_hosts given`;
  // gnutls' words (Debian's git) and OpenSSL's.
  if (/server certificate verification failed|SSL certificate problem|certificate verify failed/i.test(text))
    return `the TLS certificate of ${req.url.host} is not trusted: add the CA that signed it to the builder's CA bundle (WHARF_BUILDER_CA_BUNDLE)`;
  if (/repository .* not found|no such repository|not exported|does not appear to be a git repository|returned error: 404|\b404 Not Found/i.test(text))
    return `repository ${where} not found`;
  const network = /Could not resolve host|Connection refused|unable to connect|Connection timed out|No route to host|Network is unreachable/i;
  if (network.test(text) || /Could not read from remote repository/i.test(text)) {
    // The line that says why (ssh's "connect to host ... Connection refused"), not git's closing advice.
    const why = lines.find((l) => network.test(l)) ?? lines.find((l) => l.startsWith('fatal:')) ?? message;
    return `repository ${where} is unreachable: ${firstLine(why)}`;
  }
  if (/block timeout reached/i.test(text)) return `git made no progress for ${Math.round(idleTimeoutMs / 1000)} s while cloning ${where}`;
  return `git failed on ${where}: ${firstLine(lines.slice(-1)[0] ?? message)}`;
}
