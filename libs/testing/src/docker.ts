import Docker from 'dockerode';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import { waitFor } from './ports';
import { spawnProcess, type ManagedProcess } from './process';

/** Where the Docker Engine listens: WHARF_DOCKER_SOCKET, else the standard socket. */
export function dockerSocket(): string {
  return process.env.WHARF_DOCKER_SOCKET ?? '/var/run/docker.sock';
}

export function dockerClient(): Docker {
  return new Docker({ socketPath: dockerSocket() });
}

export interface DockerEngine {
  readonly socketPath: string;
  /** Whether this harness started dockerd (and so stops it). */
  readonly started: boolean;
  stop(): Promise<void>;
}

async function pings(docker: Docker): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

/**
 * The Docker Engine for tests: the one already running on the machine, or Debian's dockerd
 * started here (no systemd on these machines) with its own pid file and log, stopped by stop().
 * One engine serves the whole test run (jest's global set-up calls this), since every engine
 * on a host shares its iptables chains and bridges.
 */
export async function ensureDockerEngine(): Promise<DockerEngine> {
  const socketPath = dockerSocket();
  const docker = new Docker({ socketPath });
  if (await pings(docker)) return { socketPath, started: false, stop: async () => undefined };
  const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
  if (!dockerd) throw new Error('dockerd not found: install Debian package docker.io (scripts/ensure-deps.sh does)');
  const dir = mkdtempSync(join(tmpdir(), 'wharf-dockerd-'));
  const proc: ManagedProcess = spawnProcess(dockerd, ['--pidfile', join(dir, 'dockerd.pid'), '--host', `unix://${socketPath}`]);
  await waitFor(
    'dockerd',
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`dockerd exited: ${proc.output().slice(-2000)}`);
      return (await pings(docker)) || undefined;
    },
    60_000,
    100,
  );
  return {
    socketPath,
    started: true,
    async stop() {
      await proc.stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestImageOptions {
  /** Files of the image: path (no leading slash) -> content; mode 0755 for paths under bin/. */
  files?: Record<string, string>;
  cmd?: string[];
  env?: Record<string, string>;
  expose?: number[];
  workdir?: string;
}

/** busybox applets linked into every test image. */
const APPLETS = [
  'sh',
  'httpd',
  'nc',
  'sleep',
  'echo',
  'cat',
  'ls',
  'env',
  'wget',
  'kill',
  'true',
  'false',
  'date',
  'head',
  'tail',
  'printf',
  'dd',
  'mkdir',
  'rm',
  'seq',
];

/**
 * Builds a tiny image from Debian's busybox-static and the given files, in well under a second
 * and with nothing pulled from outside (FROM scratch, classic builder). Returns the tag.
 */
export async function buildTestImage(docker: Docker, tag: string, options: TestImageOptions = {}): Promise<string> {
  const busybox = readFileSync(existsSync('/bin/busybox') ? '/bin/busybox' : '/usr/bin/busybox');
  const lines = ['FROM scratch', 'COPY rootfs/ /'];
  for (const [k, v] of Object.entries(options.env ?? {})) lines.push(`ENV ${k}=${JSON.stringify(v)}`);
  for (const p of options.expose ?? []) lines.push(`EXPOSE ${p}`);
  if (options.workdir) lines.push(`WORKDIR ${options.workdir}`);
  if (options.cmd) lines.push(`CMD ${JSON.stringify(options.cmd)}`);
  const tar = pack();
  tar.entry({ name: 'Dockerfile' }, lines.join('\n') + '\n');
  tar.entry({ name: 'rootfs/bin/busybox', mode: 0o755 }, busybox);
  for (const applet of APPLETS) tar.entry({ name: `rootfs/bin/${applet}`, type: 'symlink', linkname: 'busybox' });
  tar.entry({ name: 'rootfs/tmp/', type: 'directory', mode: 0o1777 });
  for (const [path, content] of Object.entries(options.files ?? {})) {
    tar.entry({ name: `rootfs/${path}`, mode: path.startsWith('bin/') ? 0o755 : 0o644 }, content);
  }
  tar.finalize();
  const stream = await docker.buildImage(tar as unknown as NodeJS.ReadableStream, { t: tag, rm: true, forcerm: true, version: '1' });
  await followProgress(docker, stream);
  return tag;
}

/** Waits for a build/pull/push stream to end; rejects with the engine's own error line. */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: { error?: string; errorDetail?: { message?: string } }[]) => {
        const failed = output?.find((o) => o.error || o.errorDetail);
        if (err) reject(err);
        else if (failed) reject(new Error(failed.errorDetail?.message ?? failed.error));
        else resolve(output);
      },
      () => undefined,
    );
  });
}

/**
 * An image that answers HTTP on `port` with `body` at `/` (busybox httpd): the smallest
 * stand-in for a user's web app.
 */
export function httpTestImage(docker: Docker, tag: string, body: string, port = 8080): Promise<string> {
  return buildTestImage(docker, tag, {
    files: { 'www/index.html': body },
    cmd: ['httpd', '-f', '-v', '-p', String(port), '-h', '/www'],
    expose: [port],
  });
}
