import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BuildkitProgress } from '../domain/buildkit-progress';
import { LastLines } from '../domain/build-failure';
import type { BuildLimits, CgroupLimiter, LimitReport } from './cgroup-limits.adapter';
import { childEnv, runProcess } from './process.adapter';

export interface ImageBuildRequest {
  contextDir: string;
  /** Path of the Dockerfile (may lie outside the context). */
  dockerfile: string;
  tag: string;
  buildArgs?: Record<string, string>;
  target?: string;
  /** BuildKit secrets: id -> file on this host. */
  secrets?: Record<string, string>;
  /** A DOCKER_CONFIG directory whose config.json holds registry credentials for FROM images. */
  dockerConfigDir?: string;
  limits?: BuildLimits;
  signal?: AbortSignal;
  onLine(line: string): void;
}

export interface ImageBuildResult {
  imageId: string;
  progress: BuildkitProgress;
  limits?: LimitReport;
}

export class ImageBuildError extends Error {
  constructor(
    message: string,
    readonly progress: BuildkitProgress,
    readonly lastLines: string[],
    readonly aborted: boolean,
    readonly limits?: LimitReport,
  ) {
    super(message);
    this.name = 'ImageBuildError';
  }
}

export interface BuildkitOptions {
  /** Debian's 20.10 CLI, which has BuildKit built in (a newer CLI without buildx cannot build with it). */
  dockerCli: string;
  /** unix socket of the Docker Engine. */
  dockerSocket: string;
  limiter?: CgroupLimiter;
  /** no_proxy for builds (the marker that recognises a build's containers is appended to it). */
  noProxy?: string;
  /** Makes each build's marker unique. */
  marker: () => string;
  /** Where each build keeps its scratch files (iid file, an empty DOCKER_CONFIG). */
  scratchDir: string;
}

/**
 * Builds images with BuildKit through Debian's docker CLI (`DOCKER_BUILDKIT=1 docker build`),
 * as a child process with an argv array. Chosen over the Engine API (dockerode's buildImage
 * with version 2) because the CLI's BuildKit session serves what the API path lacks: build
 * secrets from files (dockerode's session answers only registry auth), the incremental
 * context transfer that makes a no-change rebuild take a tenth of a second, and a
 * Dockerfile outside the context; and it is byte for byte the `docker build` the benchmark
 * compares with. Output is BuildKit's plain progress, line by line.
 */
export class BuildkitAdapter {
  constructor(private readonly options: BuildkitOptions) {}

  async build(req: ImageBuildRequest): Promise<ImageBuildResult> {
    const work = mkdtempSync(join(this.options.scratchDir, 'buildkit-'));
    const iidfile = join(work, 'iid');
    const marker = this.options.marker();
    const args = ['build', '--progress=plain', '--iidfile', iidfile, '-f', req.dockerfile, '-t', req.tag];
    for (const [id, src] of Object.entries(req.secrets ?? {})) args.push('--secret', `id=${id},src=${src}`);
    for (const [k, v] of Object.entries(req.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`);
    if (req.target) args.push('--target', req.target);
    // BuildKit exports no_proxy to every RUN without an ARG and leaves it out of the cache key.
    args.push('--build-arg', `no_proxy=${[this.options.noProxy, `${marker}.wharf.invalid`].filter(Boolean).join(',')}`);
    args.push('--', req.contextDir);
    const progress = new BuildkitProgress();
    const last = new LastLines(20);
    const tracker = req.limits && this.options.limiter?.available ? this.options.limiter.track(marker, req.limits) : undefined;
    try {
      const result = await runProcess(this.options.dockerCli, args, {
        env: childEnv(work, {
          DOCKER_BUILDKIT: '1',
          DOCKER_HOST: `unix://${this.options.dockerSocket}`,
          DOCKER_CONFIG: req.dockerConfigDir ?? join(work, 'docker-config'),
          BUILDKIT_PROGRESS: 'plain',
        }),
        signal: req.signal,
        onLine: (line) => {
          progress.push(line);
          last.push(line);
          req.onLine(line);
        },
      });
      const limits = tracker?.stop();
      if (result.code !== 0) {
        const failed = progress.failedInstruction();
        const what = failed ? `${failed.name}: ${failed.error}` : (progress.solveError ?? `docker build exited with ${result.code ?? result.signal}`);
        throw new ImageBuildError(what, progress, last.get(), result.aborted, limits);
      }
      return { imageId: readFileSync(iidfile, 'utf8').trim(), progress, limits };
    } finally {
      tracker?.stop();
      rmSync(work, { recursive: true, force: true });
    }
  }
}
