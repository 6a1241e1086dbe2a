import type { Logger } from '@wharf/logging';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  closeSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { RenderedConfig } from '../domain/render-nginx-config';
import { nginxFile, type NginxPaths } from '../domain/settings';
import { unixHttp } from './unix-http';

/** nginx refused a config (nginx -t, or the reload did not take): the reason is nginx's own words. */
export class NginxRejectedError extends Error {
  constructor(
    readonly instance: string,
    readonly reason: string,
  ) {
    super(`nginx (${instance}) rejected the config: ${reason}`);
    this.name = 'NginxRejectedError';
  }
}

export type ApplyOutcome = 'unchanged' | 'started' | 'reloaded';

export interface NginxInstanceOptions {
  /** "http" or "stream": names the instance in logs, metrics and errors. */
  name: string;
  paths: NginxPaths;
  binary?: string;
  /** Copied to <prefix>/lua before the first start (the http instance's Lua router). */
  luaSourceDir?: string;
  logger: Logger;
  /** How long a start or reload may take to serve the new generation before it counts as refused. */
  confirmTimeoutMs?: number;
}

const run = (file: string, args: string[], timeoutMs = 15000) =>
  new Promise<{ code: number; output: string }>((resolve) => {
    execFile(file, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code: err && code === 0 ? 1 : code, output: `${stdout}${stderr}`.trim() || (err ? err.message : '') });
    });
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** nginx's own words: its [emerg]/[alert]/[crit] lines, without the "nginx: " noise. */
function reasonOf(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /\[(emerg|alert|crit|error)\]/.test(l) && !/signal process started/.test(l));
  const words = (lines.length ? lines : [output.trim() || 'no output']).map((l) =>
    l
      .replace(/^nginx: /, '')
      // "2026/12/01 09:09:18 [emerg] 123#123: " -> "[emerg] "
      .replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (\[\w+\]) \d+#\d+: (\*\d+ )?/, '$1 '),
  );
  return [...new Set(words)].join('; ');
}

/**
 * One nginx master with its own prefix, config, pid file and logs (never the system's). It
 * applies a rendered config only after `nginx -t` passes on a candidate file, swaps it in, and
 * starts nginx or reloads it gracefully (SIGHUP: new workers take new connections, old ones
 * finish theirs). A reload counts as done only when the control socket answers the new
 * generation; if it never does (a port taken, say), the last good file is put back and the
 * error log says why. The running master keeps the last good config in any case.
 *
 * Calls must not overlap (the sync loop serialises and coalesces them).
 */
export class NginxInstance {
  readonly name: string;
  private readonly binary: string;
  private generation?: string;
  private pid?: number;
  private busy = false;
  /** Counters for /metrics: config files written, reloads, configs refused. */
  readonly counts = { writes: 0, starts: 0, reloads: 0, rejected: 0 };

  constructor(private readonly options: NginxInstanceOptions) {
    this.name = options.name;
    this.binary = options.binary ?? '/usr/sbin/nginx';
  }

  get paths(): NginxPaths {
    return this.options.paths;
  }
  get runningGeneration(): string | undefined {
    return this.generation;
  }
  get masterPid(): number | undefined {
    return this.pid;
  }
  private file(relative: string): string {
    return nginxFile(this.options.paths, relative);
  }
  private get confFile(): string {
    return this.file('conf/nginx.conf');
  }

  /**
   * Makes the prefix (dirs, Lua sources, extra files such as the default certificate) and
   * adopts a master left running by an earlier lb-manager (it kept serving meanwhile).
   */
  async prepare(files: Record<string, { content: string; mode?: number }> = {}): Promise<void> {
    for (const dir of ['conf', 'run', 'logs', 'tmp', 'tls', 'lua']) mkdirSync(this.file(dir), { recursive: true });
    // Workers run as an unprivileged user when the master is root: they must be able to read the prefix.
    chmodSync(this.options.paths.prefix, 0o755);
    if (this.options.luaSourceDir) this.copyLua(this.options.luaSourceDir, this.file('lua'));
    for (const [relative, f] of Object.entries(files)) this.writeIfChanged(this.file(relative), f.content, f.mode ?? 0o644);
    await this.adopt();
  }

  /** Writes a file the config refers to (e.g. tls/default.crt); true when its content changed. */
  writeIfChanged(path: string, content: string, mode: number): boolean {
    if (existsSync(path) && readFileSync(path, 'utf8') === content) return false;
    const tmp = `${path}.next`;
    writeFileSync(tmp, content, { mode });
    renameSync(tmp, path);
    return true;
  }

  private copyLua(from: string, to: string): void {
    for (const name of readdirSync(from)) {
      const src = join(from, name);
      const dst = join(to, name);
      if (statSync(src).isDirectory()) {
        mkdirSync(dst, { recursive: true, mode: 0o755 });
        this.copyLua(src, dst);
      } else {
        copyFileSync(src, dst);
        chmodSync(dst, 0o644);
      }
    }
  }

  private async adopt(): Promise<void> {
    const pidFile = this.file('run/nginx.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return;
    }
    if (!cmdline.includes('nginx') || !cmdline.includes(this.options.paths.prefix)) return;
    const answer = await this.askGeneration();
    if (!answer) return;
    this.pid = pid;
    this.generation = answer;
    this.options.logger.info({ instance: this.name, pid, generation: answer }, 'nginx: adopted the running master');
  }

  private async askGeneration(): Promise<string | undefined> {
    try {
      const res = await unixHttp(this.options.paths.socket, 'GET', '/wharf/generation', undefined, 1000);
      return res.status === 200 ? res.body.trim() : undefined;
    } catch {
      return undefined;
    }
  }

  /** Applies a rendered config: unchanged (nothing written), started, or reloaded; NginxRejectedError when nginx refuses it. */
  async apply(config: RenderedConfig): Promise<ApplyOutcome> {
    if (this.busy) throw new Error(`nginx (${this.name}): apply() calls must not overlap`);
    this.busy = true;
    try {
      if (this.pid !== undefined && !alive(this.pid)) {
        this.options.logger.warn({ instance: this.name, pid: this.pid }, 'nginx: the master is gone, starting it again');
        this.pid = undefined;
        this.generation = undefined;
      }
      if (this.pid !== undefined && this.generation === config.generation) return 'unchanged';
      return await this.install(config);
    } finally {
      this.busy = false;
    }
  }

  private async install(config: RenderedConfig): Promise<ApplyOutcome> {
    const candidate = this.file('conf/nginx.conf.next');
    writeFileSync(candidate, config.text, { mode: 0o644 });
    const test = await run(this.binary, ['-t', '-q', '-p', this.options.paths.prefix, '-c', candidate]);
    if (test.code !== 0) {
      rmSync(candidate, { force: true });
      this.counts.rejected++;
      throw new NginxRejectedError(this.name, reasonOf(test.output));
    }
    const previous = existsSync(this.confFile) ? readFileSync(this.confFile, 'utf8') : undefined;
    renameSync(candidate, this.confFile);
    this.counts.writes++;
    const errorLog = this.file('logs/error.log');
    const logOffset = existsSync(errorLog) ? statSync(errorLog).size : 0;
    const restore = () => {
      if (previous === undefined) rmSync(this.confFile, { force: true });
      else writeFileSync(this.confFile, previous, { mode: 0o644 });
    };
    if (this.pid === undefined) {
      // A stale socket file (a master killed hard) makes nginx's bind fail.
      rmSync(this.options.paths.socket, { force: true });
      const started = await run(this.binary, ['-p', this.options.paths.prefix, '-c', this.confFile]);
      if (started.code !== 0) {
        restore();
        this.counts.rejected++;
        throw new NginxRejectedError(this.name, reasonOf(started.output));
      }
      this.pid = Number(readFileSync(this.file('run/nginx.pid'), 'utf8').trim());
      await this.confirm(config.generation, () => this.tail(errorLog, logOffset), restore);
      this.counts.starts++;
      this.options.logger.info({ instance: this.name, pid: this.pid, generation: config.generation }, 'nginx: started');
      return 'started';
    }
    process.kill(this.pid, 'SIGHUP');
    await this.confirm(config.generation, () => this.tail(errorLog, logOffset), restore);
    this.counts.reloads++;
    this.options.logger.info({ instance: this.name, generation: config.generation }, 'nginx: reloaded');
    return 'reloaded';
  }

  /** Waits until the control socket answers `generation` (served by the new workers). */
  private async confirm(generation: string, logSince: () => string, restore: () => void): Promise<void> {
    const deadline = Date.now() + (this.options.confirmTimeoutMs ?? 5000);
    let quietSince = 0;
    let lastLog = '';
    for (let attempt = 0; attempt < 10_000 && Date.now() < deadline; attempt++) {
      if ((await this.askGeneration()) === generation) {
        this.generation = generation;
        return;
      }
      if (this.pid !== undefined && !alive(this.pid)) break;
      // A master that cannot reconfigure says so ([emerg]) and keeps its old workers; a bind() it
      // retries for about 2 s. Done once its log has been quiet a while: then it takes the next signal.
      const log = logSince();
      if (log !== lastLog) [lastLog, quietSince] = [log, Date.now()];
      else if (/\[emerg\]/.test(log) && Date.now() - quietSince > 700) break;
      await sleep(20);
    }
    restore();
    this.counts.rejected++;
    const log = logSince();
    throw new NginxRejectedError(this.name, log ? reasonOf(log) : `did not serve generation ${generation} within ${this.options.confirmTimeoutMs ?? 5000} ms`);
  }

  private tail(path: string, offset: number): string {
    if (!existsSync(path)) return '';
    const size = statSync(path).size;
    if (size <= offset) return '';
    const length = Math.min(size - offset, 64 * 1024);
    const buf = Buffer.alloc(length);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buf, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    return buf.toString('utf8');
  }

  /** Graceful stop (SIGQUIT: workers finish their requests), bounded; SIGTERM after the bound. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const pid = this.pid;
    this.pid = undefined;
    this.generation = undefined;
    if (pid === undefined || !alive(pid)) return;
    process.kill(pid, 'SIGQUIT');
    const deadline = Date.now() + timeoutMs;
    while (alive(pid) && Date.now() < deadline) await sleep(50);
    if (alive(pid)) process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
  }
}

/** Starts nothing: says whether an nginx binary with the modules lb-manager needs is installed. */
/**
 * The first directory on the way to `dir` (itself included) that others may not enter, if any.
 * nginx started by root runs its workers as an unprivileged user, and they write request bodies
 * and buffered responses under the prefix: a 0700 directory above it (a mkdtemp state dir) makes
 * those requests fail while everything else seems to work.
 */
export function closedToWorkers(dir: string): string | undefined {
  const chain: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  return chain.find((d) => existsSync(d) && (statSync(d).mode & 0o001) === 0);
}

export function nginxMissing(binary: string, modulesDir: string, modules: string[]): string | undefined {
  if (!existsSync(binary)) return `${binary} not found: install Debian's nginx (scripts/ensure-deps.sh does)`;
  const missing = modules.filter((m) => !existsSync(join(modulesDir, m)));
  if (missing.length) return `nginx modules missing in ${modulesDir}: ${missing.join(', ')} (libnginx-mod-stream, libnginx-mod-http-lua)`;
  return undefined;
}
