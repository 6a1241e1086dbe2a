import type Docker from 'dockerode';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { DEFAULT_PATH } from '../domain/dockerfile';
import { parseStackVersion, STACK_IMAGE_RECIPES, STACK_VERSION_FILE, stackDockerfile, stackImageTag, type StackImageName } from '../domain/stacks';
import type { BuildkitAdapter } from './buildkit.adapter';
import { childEnv, runProcess } from './process.adapter';

export interface StackImage {
  ref: string;
  /** The runtime's version as it reports it (e.g. "18.19.0"). */
  version: string;
}

export interface StackImagesOptions {
  docker: Docker;
  buildkit: BuildkitAdapter;
  /** Debian release of the stacks (the host's). */
  suite: string;
  /** The mirror debootstrap fetches from (the host's apt sources). */
  mirror: string;
  /** deb822 sources written into the base, so apt inside builds uses the host's mirrors. */
  sourcesFile: string;
  /** Scratch space (the rootfs is about 200 MB while it is made) and the cross-process locks. */
  workDir: string;
  debootstrap?: string;
  /** How long a build waits for another process that is making the same stack image. */
  lockWaitMs?: number;
  /** Repository of the language stack images (default wharf-stack). */
  repository?: string;
}

/**
 * The language stack images, built once per recipe and reused: the Debian base with
 * debootstrap (imported into the engine), each language on it with Debian's packages through
 * BuildKit. The first build that needs one makes it, and its log shows the progress. Several
 * builds (and builder processes on one engine) needing the same image wait for one maker.
 */
export class StackImagesAdapter {
  private readonly making = new Map<string, Promise<void>>();
  private readonly versions = new Map<string, string>();

  constructor(private readonly o: StackImagesOptions) {}

  tagOf(name: StackImageName): string {
    return stackImageTag(STACK_IMAGE_RECIPES[name], this.o.suite, this.o.repository);
  }

  /** The image, made first if it does not exist yet (its progress goes to log). */
  async ensure(name: StackImageName, log: (line: string) => void, signal?: AbortSignal): Promise<StackImage> {
    const ref = this.tagOf(name);
    if (!(await this.exists(ref))) {
      let pending = this.making.get(ref);
      if (!pending) {
        pending = this.withLock(name, ref, log, signal, () => this.make(name, ref, log, signal)).finally(() => this.making.delete(ref));
        this.making.set(ref, pending);
      } else {
        log(`[stack] waiting for the ${name} stack image another build is making`);
      }
      await pending;
    }
    return { ref, version: await this.version(name, ref) };
  }

  private async make(name: StackImageName, ref: string, log: (line: string) => void, signal?: AbortSignal): Promise<void> {
    if (name === 'base') return this.makeBase(ref, log, signal);
    const base = await this.ensure('base', log, signal);
    log(`[stack] building the ${name} stack image ${ref} (once; later builds reuse it)`);
    const dir = mkdtempSync(join(this.o.workDir, `stack-${name}-`));
    try {
      mkdirSync(join(dir, 'context'));
      writeFileSync(join(dir, 'Dockerfile'), stackDockerfile(STACK_IMAGE_RECIPES[name], base.ref));
      await this.o.buildkit.build({
        contextDir: join(dir, 'context'),
        dockerfile: join(dir, 'Dockerfile'),
        tag: ref,
        signal,
        onLine: (l) => log(`[stack] ${l}`),
      });
      log(`[stack] ${ref} is ready`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** debootstrap --variant=minbase into a scratch root, the host's sources inside it, `docker import`. */
  private async makeBase(ref: string, log: (line: string) => void, signal?: AbortSignal): Promise<void> {
    log(`[stack] making the Debian ${this.o.suite} base image ${ref} with debootstrap from ${this.o.mirror} (once)`);
    const dir = mkdtempSync(join(this.o.workDir, 'rootfs-'));
    const rootfs = join(dir, 'rootfs');
    try {
      const result = await runProcess(this.o.debootstrap ?? '/usr/sbin/debootstrap', ['--variant=minbase', this.o.suite, rootfs, this.o.mirror], {
        env: childEnv(dir),
        signal,
        onLine: (l) => log(`[stack] ${l}`),
      });
      if (result.code !== 0) throw new Error(`debootstrap exited with ${result.code ?? result.signal}${result.aborted ? ' (cancelled)' : ''}`);
      rmSync(join(rootfs, 'etc/apt/sources.list'), { force: true });
      writeFileSync(join(rootfs, 'etc/apt/sources.list.d/debian.sources'), this.o.sourcesFile);
      // Slim images: no docs or man pages from later installs, no recommends, apt caches emptied.
      writeFileSync(
        join(rootfs, 'etc/dpkg/dpkg.cfg.d/wharf-nodoc'),
        'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\n',
      );
      writeFileSync(join(rootfs, 'etc/apt/apt.conf.d/90wharf'), 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nAcquire::Retries "3";\n');
      for (const d of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
        rmSync(join(rootfs, d), { recursive: true, force: true });
        mkdirSync(join(rootfs, d, 'partial'), { recursive: true });
      }
      log('[stack] importing the base into the Docker Engine');
      await this.importRootfs(rootfs, ref);
      log(`[stack] ${ref} is ready`);
    } finally {
      await removeRootfs(dir);
    }
  }

  private async importRootfs(rootfs: string, ref: string): Promise<void> {
    const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
    const tar = spawn('tar', ['--numeric-owner', '-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(rootfs) });
    let tarErr = '';
    tar.stderr.on('data', (c: Buffer) => (tarErr += c.toString()));
    // dockerode's typings lack `changes` (the Engine API's repeated query parameter); it passes it through.
    const importImage = this.o.docker.importImage.bind(this.o.docker) as (file: NodeJS.ReadableStream, opts: object) => Promise<NodeJS.ReadableStream>;
    const stream = await importImage(tar.stdout, { repo, tag, changes: [`ENV PATH=${DEFAULT_PATH}`, 'CMD ["/bin/bash"]'] });
    await new Promise<void>((resolve, reject) => {
      this.o.docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => {
        const failed = out?.find((o) => o.error);
        if (err || failed) reject(err ?? new Error(failed!.error));
        else resolve();
      });
    });
    const code = await new Promise<number | null>((resolve) => (tar.exitCode !== null ? resolve(tar.exitCode) : tar.once('close', resolve)));
    if (code !== 0) throw new Error(`tar of the base rootfs failed: ${tarErr.slice(-500)}`);
  }

  private async exists(ref: string): Promise<boolean> {
    try {
      await this.o.docker.getImage(ref).inspect();
      return true;
    } catch {
      return false;
    }
  }

  /** The version file the recipe wrote, read once per image from a created (never started) container. */
  private async version(name: StackImageName, ref: string): Promise<string> {
    const known = this.versions.get(ref);
    if (known) return known;
    const container = await this.o.docker.createContainer({ Image: ref, Cmd: ['/bin/true'], Labels: { 'org.wharf.builder': 'stack-version' } });
    try {
      const archive = await container.getArchive({ path: STACK_VERSION_FILE });
      const text = await firstFileOf(archive);
      const version = parseStackVersion(name, text);
      this.versions.set(ref, version);
      return version;
    } catch {
      return 'unknown';
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  /**
   * One maker per stack image across processes sharing the work dir: a lock directory holding
   * the maker's pid. A lock whose process is gone is taken over; waiting is bounded.
   */
  private async withLock(
    name: StackImageName,
    ref: string,
    log: (line: string) => void,
    signal: AbortSignal | undefined,
    fn: () => Promise<void>,
  ): Promise<void> {
    const locks = join(this.o.workDir, 'locks');
    mkdirSync(locks, { recursive: true });
    const lock = join(locks, `${ref.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`);
    const deadline = Date.now() + (this.o.lockWaitMs ?? 30 * 60_000);
    let told = false;
    for (;;) {
      try {
        mkdirSync(lock);
        writeFileSync(join(lock, 'pid'), String(process.pid));
        break;
      } catch {
        if (!holderAlive(lock)) {
          rmSync(lock, { recursive: true, force: true });
          continue;
        }
        if (await this.exists(ref)) return;
        if (!told) log(`[stack] another builder process is making the ${name} stack image; waiting for it`);
        told = true;
        if (signal?.aborted) throw new Error('cancelled while waiting for a stack image');
        if (Date.now() > deadline) throw new Error(`waited too long for another builder to make ${ref}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    try {
      if (!(await this.exists(ref))) await fn();
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

function holderAlive(lock: string): boolean {
  try {
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    if (!pid) return existsSync(lock); // being created this instant
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function firstFileOf(archive: NodeJS.ReadableStream): Promise<string> {
  const ex = extract();
  let text = '';
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (_header, stream, next) => {
      stream.on('data', (c: unknown) => (text += (c as Buffer).toString('utf8')));
      stream.on('end', next);
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  archive.pipe(ex);
  await done;
  return text;
}

/**
 * Removes a scratch rootfs. debootstrap mounts /proc (and may leave it mounted when it is
 * stopped midway): unmount whatever is left under it first, and never cross into another
 * file system while deleting.
 */
async function removeRootfs(dir: string): Promise<void> {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await runProcess('umount', ['-l', m], { env: childEnv('/') }).catch(() => undefined);
  await runProcess('rm', ['-rf', '--one-file-system', '--', dir], { env: childEnv('/') });
}
