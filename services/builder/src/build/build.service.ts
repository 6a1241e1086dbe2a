import type { tasksV1 } from '@wharf/contracts';
import { FailedPreconditionError, InvalidArgumentError, WharfError } from '@wharf/errors';
import { openSourceCredentials, type PlainSourceCredentials, type SecretBox, hasSealedSecrets } from '@wharf/secrets';
import { rolloutAfterBuild } from '@wharf/tasks';
import { join } from 'node:path';
import { ImageBuildError } from '../adapters/buildkit.adapter';
import { CheckoutError } from '../adapters/git.adapter';
import { RegistryError, type RegistryAuth } from '../adapters/registry.adapter';
import { ComponentGoneError } from '../adapters/versions.adapter';
import type { Workspace } from '../adapters/workspace.adapter';
import { BuildFailure, LastLines, type BuildStep } from '../domain/build-failure';
import { exitCodeOf } from '../domain/buildkit-progress';
import { detect, type StackName } from '../domain/detect';
import { CA_SECRET_ID, generateDockerfile } from '../domain/dockerfile';
import { assertBuildArgs, assertTarget, parseGitUrl, resolveRef, safeRelativePath, type GitRef, type GitUrl } from '../domain/git-source';
import { cacheScopeOf, componentRepository, formatImageRef, parseImageRef, versionIdOf, type ImageRef } from '../domain/image-ref';
import { Redactor } from '../domain/redactor';
import { runtimeWarnings } from '../domain/runtime-versions';
import { STACK_IMAGES_OF } from '../domain/stacks';
import type { BuildSettings, FollowUpPort, ImagesPort, OperationLog, RegistryPort, SourcePort, StacksPort, StepLog, VersionsPort } from './ports';

export interface BuildContext {
  log: OperationLog;
  /** Aborted when the builder stops or loses the task's lease: stop, report nothing more. */
  signal: AbortSignal;
  /**
   * This delivery is the task's last (mq dead-letters it after): a failure of the data center
   * itself (etcd, the registry unreachable) is reported then; before, the task is retried.
   */
  lastAttempt?: boolean;
}

/** The data center failed (etcd, the registry, mq unreachable), not the build: worth another attempt. */
export class InfrastructureError extends Error {
  constructor(
    message: string,
    readonly step: BuildStep,
  ) {
    super(message);
    this.name = 'InfrastructureError';
  }
}

export type BuildOutcome =
  | { kind: 'recorded'; versionId: string; image: string; digest: string; deploying: boolean }
  | { kind: 'already-recorded'; versionId: string; deploying: boolean }
  | { kind: 'failed'; step: BuildStep; reason: string }
  /** Stopped (shutdown or lease lost): nothing reported as failed, the task goes back to the queue. */
  | { kind: 'abandoned' }
  /** The data center failed and this was not the last attempt: nothing reported as failed, mq retries the task. */
  | { kind: 'retry'; step: BuildStep; reason: string };

interface Plan {
  task: tasksV1.BuildTask;
  versionId: string;
  repository: string;
  credentials: PlainSourceCredentials;
  redactor: Redactor;
  port: number;
}

/** A step that logs through the redactor and keeps its last lines for a failure message. */
class Step {
  readonly last = new LastLines(15);
  constructor(
    readonly name: BuildStep,
    readonly log: StepLog,
    private readonly redactor: Redactor,
  ) {}
  line = (text: string, level: 'info' | 'warn' | 'error' = 'info') => {
    const clean = this.redactor.redact(text);
    this.last.push(clean);
    this.log.line(clean, level);
  };
  ok() {
    this.log.ok();
  }
  failure(reason: string, lines: readonly string[] = this.last.get()): BuildFailure {
    return new BuildFailure(
      this.name,
      this.redactor.redact(reason),
      lines.map((l) => this.redactor.redact(l)),
    );
  }
}

/**
 * One build task, from its source to a Version in the component's stream: clone, detect,
 * build, push, record (pull, push, record for an image), each a step in event-log with every
 * output line. A failure ends the operation naming its step, reason and last lines; nothing
 * is pushed before the image is built. A task delivered again after this build recorded its
 * version records nothing more (one Version per build event id).
 */
export class BuildService {
  constructor(
    private readonly settings: BuildSettings,
    private readonly versions: VersionsPort,
    private readonly source: SourcePort,
    private readonly stacks: StacksPort,
    private readonly images: ImagesPort,
    private readonly registry: RegistryPort,
    private readonly followUp: FollowUpPort,
    private readonly secretBox: SecretBox | undefined,
  ) {}

  async run(task: tasksV1.BuildTask, ctx: BuildContext): Promise<BuildOutcome> {
    const timeout = AbortSignal.timeout(this.settings.timeoutMs);
    const signal = AbortSignal.any([ctx.signal, timeout]);
    const redactor = new Redactor();
    let current: Step | undefined;
    const steps = new Map<BuildStep, Step>();
    const open = (name: BuildStep) => {
      current = new Step(name, ctx.log.step(name), redactor);
      steps.set(name, current);
      return current;
    };
    const step = (name: BuildStep) => {
      // Between steps: a stopping builder (or a timed-out build) goes no further.
      signal.throwIfAborted();
      return open(name);
    };
    // Scratch space and the local tag go once the version is recorded (or the build failed), not between build and push or push and record.
    const cleanup: (() => unknown)[] = [];
    let dropLocalTag: (() => Promise<void>) | undefined;
    try {
      const facts = await this.infra('clone', 'reading the component from the event store', () => this.versions.facts(task.componentId, task.eventId));
      if (facts.recorded) return await this.alreadyRecorded(task, facts.recorded.versionId, ctx);
      const plan: Plan = {
        task,
        versionId: versionIdOf(task.eventId),
        repository: componentRepository(this.settings.registry.address, task.tenantId, task.componentId),
        credentials: {},
        redactor,
        port: facts.spec?.ports[0]?.port || this.settings.defaultPort,
      };
      const source = task.source?.kind;
      const first: BuildStep = source?.case === 'image' ? 'pull' : 'clone';
      if (!facts.exists) throw step(first).failure(`component ${task.componentId} does not exist (deleted while it was queued?)`, []);
      plan.credentials = this.openCredentials(task, () => step(first));
      redactor.add(plan.credentials.gitToken).add(plan.credentials.registryPassword).add(plan.credentials.sshPrivateKey);
      if (plan.credentials.gitToken)
        redactor.add(Buffer.from(`${plan.credentials.gitUsername || 'x-access-token'}:${plan.credentials.gitToken}`).toString('base64'));
      let built: {
        localRef: string;
        source: string;
        commit: string;
        kind: 'image' | 'dockerfile' | 'source';
        stack: string;
        reason: string;
        warnings: string[];
      };
      if (source?.case === 'image') built = await this.fromImage(plan, source.value, step, signal);
      else if (source?.case === 'git') built = await this.fromGit(plan, source.value, step, signal, cleanup);
      else throw step('clone').failure('the task has no source (an image or a git repository)', []);

      const push = step('push');
      const image = `${plan.repository}:${plan.versionId}`;
      push.line(`pushing ${image} to the data center's registry`);
      let digest: string;
      let size: number;
      try {
        // A build already tagged its image as the version; a pulled image is tagged here.
        if (built.localRef !== image) await this.registry.tag(built.localRef, plan.repository, plan.versionId);
        // The size is the local image's: read beside the push, not after it.
        const [pushed, info] = await Promise.all([
          this.registry.push(plan.repository, plan.versionId, this.dcAuth(), push.line),
          this.registry.inspect(image).catch((err: unknown) => err as Error),
        ]);
        if (info instanceof Error) throw info;
        digest = pushed.digest;
        size = info.size;
      } catch (err) {
        const message = err instanceof RegistryError ? err.message : `push failed: ${(err as Error).message}`;
        // The data center's own registry being down is not the build's fault: another attempt may pass.
        if (/unreachable|connection refused|timeout/i.test(message)) throw new InfrastructureError(message, 'push');
        throw push.failure(message, err instanceof RegistryError ? err.lines : undefined);
      } finally {
        // The local tag goes after the record (the registry has the image; the engine keeps the layers for the cache).
        if (!this.settings.keepImages) dropLocalTag = once(() => this.registry.untag(image));
      }
      push.line(`pushed ${plan.repository}@${digest} (${(size / 1048576).toFixed(1)} MiB)`);
      push.ok();

      const record = step('record');
      const { version, appended } = await this.infra('record', 'recording the version in the event store', () =>
        this.versions.record(
          {
            componentId: task.componentId,
            versionId: plan.versionId,
            buildEventId: task.eventId,
            source: built.source,
            image,
            digest,
            commit: built.commit,
            sizeBytes: BigInt(size),
            buildKind: built.kind,
            stack: built.stack,
            detectReason: built.reason,
            warnings: built.warnings,
            status: 'success',
          },
          facts.streamVersion,
        ),
      );
      record.line(
        appended ? `recorded version ${version.versionId}: ${image} (${digest})` : `version ${version.versionId} was already recorded for this build`,
      );
      record.ok();
      // Before the deploy is handed over: app-manager may pull this very tag on this engine.
      await dropLocalTag?.();
      const deploying = await this.handOver(task, version.versionId, record, ctx);
      return { kind: 'recorded', versionId: version.versionId, image, digest, deploying };
    } catch (err) {
      if (ctx.signal.aborted && !timeout.aborted) return { kind: 'abandoned' };
      if (err instanceof InfrastructureError && !ctx.lastAttempt && !timeout.aborted) return { kind: 'retry', step: err.step, reason: err.message };
      const failure = this.asFailure(err, current, timeout.aborted);
      // A failure before any step (the component's facts unreadable) is reported as the first one's.
      (steps.get(failure.step) ?? open(failure.step)).log.fail(failure.stepMessage);
      ctx.log.done();
      return { kind: 'failed', step: failure.step, reason: failure.reason };
    } finally {
      // The checkout (and any key file) first and synchronously: gone before event-log can hear the operation is over.
      for (const f of cleanup) await f();
      await dropLocalTag?.();
    }
  }

  private asFailure(err: unknown, current: Step | undefined, timedOut: boolean): BuildFailure {
    const step = current?.name ?? 'clone';
    if (timedOut)
      return current
        ? current.failure(`the build took longer than its limit of ${Math.round(this.settings.timeoutMs / 1000)} s`)
        : new BuildFailure(step, 'timed out');
    if (err instanceof BuildFailure) return err;
    if (err instanceof InfrastructureError)
      return (current?.name === err.step ? current : undefined)?.failure(err.message) ?? new BuildFailure(err.step, err.message);
    if (err instanceof ComponentGoneError) return new BuildFailure(step, err.message);
    if (err instanceof WharfError) return current ? current.failure(err.message) : new BuildFailure(step, err.message);
    return current ? current.failure(`unexpected error: ${(err as Error).message}`) : new BuildFailure(step, `unexpected error: ${(err as Error).message}`);
  }

  /** Runs a call to the data center (event store); its failure is an InfrastructureError (retried), never the build's. */
  private async infra<T>(step: BuildStep, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // What was asked is wrong: no retry helps. Anything else (unreachable, a lost race ten times over) may pass.
      if (err instanceof ComponentGoneError || err instanceof InvalidArgumentError || err instanceof FailedPreconditionError) throw err;
      throw new InfrastructureError(`${what} failed: ${(err as Error).message}`, step);
    }
  }

  private openCredentials(task: tasksV1.BuildTask, firstStep: () => Step): PlainSourceCredentials {
    const sealed = task.options?.credentials;
    if (!hasSealedSecrets(sealed))
      return { gitUsername: sealed?.gitUsername, sshKnownHosts: sealed?.sshKnownHosts, registryUsername: sealed?.registryUsername };
    if (!this.secretBox) throw firstStep().failure('the task carries sealed credentials but this builder has no WHARF_SECRET_KEY to open them', []);
    try {
      return openSourceCredentials(this.secretBox, task.componentId, sealed);
    } catch (err) {
      throw firstStep().failure((err as Error).message, []);
    }
  }

  private dcAuth(): RegistryAuth | undefined {
    const a = this.settings.registry.auth;
    return a ? { ...a, serveraddress: this.settings.registry.address } : undefined;
  }

  /** A redelivered task whose build already recorded its version: nothing is built or recorded again. */
  private async alreadyRecorded(task: tasksV1.BuildTask, versionId: string, ctx: BuildContext): Promise<BuildOutcome> {
    const record = new Step('record', ctx.log.step('record'), new Redactor());
    record.line(`this build already recorded version ${versionId} (the task was delivered again): nothing more to build`);
    record.ok();
    const deploying = await this.handOver(task, versionId, record, ctx);
    return { kind: 'already-recorded', versionId, deploying };
  }

  /**
   * A build asked to deploy hands over to app-manager: an UpgradeTask under the same event id,
   * so the user follows one timeline and its final status is the deploy's (app-manager says
   * done). Otherwise the build is the whole operation and says done itself.
   */
  private async handOver(task: tasksV1.BuildTask, versionId: string, record: Step, ctx: BuildContext): Promise<boolean> {
    const next = rolloutAfterBuild(task, versionId);
    if (!next) {
      ctx.log.done();
      return false;
    }
    await this.infra('record', 'handing the deploy to app-manager (mq)', () => this.followUp.enqueue(next));
    record.line(`deploying ${versionId}: handed to app-manager (upgrade) under this operation`);
    return true;
  }

  private async fromImage(
    plan: Plan,
    source: tasksV1.ImageBuildSource,
    step: (n: BuildStep) => Step,
    signal: AbortSignal,
  ): Promise<{ localRef: string; source: string; commit: string; kind: 'image'; stack: string; reason: string; warnings: string[] }> {
    const pull = step('pull');
    let ref: ImageRef;
    try {
      ref = parseImageRef(source.image);
    } catch (err) {
      throw pull.failure((err as Error).message, []);
    }
    const text = formatImageRef(ref);
    const { registryUsername: username, registryPassword: password } = plan.credentials;
    const auth: RegistryAuth | undefined =
      username && password
        ? { username, password, serveraddress: ref.registry || 'docker.io' }
        : ref.registry === this.settings.registry.address
          ? this.dcAuth()
          : undefined;
    pull.line(`pulling ${text}${auth ? ` as ${auth.username}` : ''}`);
    try {
      await this.registry.pull(text, auth, pull.line, signal);
    } catch (err) {
      throw pull.failure(
        err instanceof RegistryError ? err.message : `pull ${text} failed: ${(err as Error).message}`,
        err instanceof RegistryError ? err.lines : undefined,
      );
    }
    const info = await this.registry.inspect(text);
    const name = ref.registry ? `${ref.registry}/${ref.repository}` : ref.repository;
    const digest = ref.digest ?? info.repoDigests.find((d) => d.startsWith(`${name}@`))?.split('@')[1] ?? info.id;
    pull.line(`pulled ${name}@${digest}`);
    pull.ok();
    return { localRef: text, source: `${name}@${digest}`, commit: '', kind: 'image', stack: '', reason: `the component's image ${text}`, warnings: [] };
  }

  private async fromGit(
    plan: Plan,
    git: tasksV1.GitBuildSource,
    step: (n: BuildStep) => Step,
    signal: AbortSignal,
    cleanup: (() => unknown)[],
  ): Promise<{ localRef: string; source: string; commit: string; kind: 'dockerfile' | 'source'; stack: string; reason: string; warnings: string[] }> {
    const clone = step('clone');
    const options = plan.task.options;
    let url: GitUrl, ref: GitRef, subDir: string, dockerfilePath: string;
    try {
      url = parseGitUrl(git.url);
      ref = resolveRef(git.branch, options?.ref ?? '');
      subDir = safeRelativePath(git.subDir, 'source.git.sub_dir');
      dockerfilePath = safeRelativePath(git.dockerfile, 'source.git.dockerfile');
      assertBuildArgs(options?.buildArgs ?? {});
      assertTarget(options?.target ?? '');
    } catch (err) {
      throw clone.failure((err as Error).message, []);
    }
    const ws = this.source.workspace(plan.task.eventId);
    cleanup.push(() => ws.dispose());
    const what = ref.kind === 'commit' ? `commit ${ref.sha}` : `${ref.kind === 'branch' ? 'branch' : 'ref'} ${ref.name}`;
    clone.line(`cloning ${url.display} (${what}${options?.fullClone ? ', whole history' : ', shallow'})`);
    const auth = plan.credentials;
    let checkout;
    try {
      checkout = await this.source.checkout({
        url,
        ref,
        fullClone: options?.fullClone ?? false,
        dir: ws.source,
        secretsDir: ws.secrets,
        auth: { username: auth.gitUsername, token: auth.gitToken, sshPrivateKey: auth.sshPrivateKey, sshKnownHosts: auth.sshKnownHosts },
        maxBytes: this.settings.maxRepoBytes,
        signal,
        onLine: clone.line,
      });
    } catch (err) {
      if (err instanceof CheckoutError) throw clone.failure(err.message, err.lines);
      throw err;
    }
    clone.line(`checked out ${checkout.commit} (${(checkout.bytes / 1048576).toFixed(1)} MiB)`);
    clone.ok();

    const detectStep = step('detect');
    let buildDir: string;
    try {
      buildDir = this.source.inside(ws.source, subDir, 'sub-directory');
    } catch (err) {
      throw detectStep.failure((err as Error).message, []);
    }
    if (dockerfilePath) {
      const dockerfile = this.findDockerfile(ws.source, subDir, dockerfilePath, detectStep);
      const reason = `the component names its Dockerfile: ${dockerfile.shown}`;
      detectStep.line(reason);
      detectStep.ok();
      return await this.buildDockerfile(plan, ws, buildDir, dockerfile.path, reason, checkout.commit, url, step, signal);
    }
    const files = this.source.files(buildDir);
    const detection = detect(files);
    detectStep.line(detection.reason);
    if (detection.stack === null) throw detectStep.failure(detection.reason, []);
    if (detection.stack === 'dockerfile') {
      detectStep.ok();
      return await this.buildDockerfile(plan, ws, buildDir, join(buildDir, detection.dockerfile), detection.reason, checkout.commit, url, step, signal);
    }
    detectStep.line(`stack: ${detection.stack}`);
    detectStep.ok();
    return await this.buildSource(plan, ws, buildDir, detection.stack, detection.reason, files, checkout.commit, url, step, signal);
  }

  private findDockerfile(root: string, subDir: string, path: string, detectStep: Step): { path: string; shown: string } {
    // Relative to the sub-directory first (where the build runs), then to the repository's root.
    for (const candidate of subDir ? [`${subDir}/${path}`, path] : [path]) {
      try {
        const real = this.source.inside(root, candidate, 'Dockerfile');
        if (this.source.exists(real)) return { path: real, shown: candidate };
      } catch (err) {
        if (/outside the repository/.test((err as Error).message)) throw detectStep.failure((err as Error).message, []);
      }
    }
    throw detectStep.failure(`Dockerfile ${JSON.stringify(path)} not found in the repository${subDir ? ` (looked in ${subDir}/ and at the root)` : ''}`, []);
  }

  private async buildDockerfile(
    plan: Plan,
    ws: Workspace,
    buildDir: string,
    dockerfile: string,
    reason: string,
    commit: string,
    url: GitUrl,
    step: (n: BuildStep) => Step,
    signal: AbortSignal,
  ): Promise<{ localRef: string; source: string; commit: string; kind: 'dockerfile'; stack: string; reason: string; warnings: string[] }> {
    const build = step('build');
    const localRef = `${plan.repository}:${plan.versionId}`;
    const options = plan.task.options;
    build.line(`building ${dockerfile.slice(ws.source.length + 1)}${options?.target ? ` (target ${options.target})` : ''} with BuildKit`);
    await this.runBuild(build, {
      contextDir: buildDir,
      dockerfile,
      tag: localRef,
      buildArgs: options?.buildArgs,
      target: options?.target || undefined,
      ws,
      signal,
    });
    return { localRef, source: `${url.display}#${commit}`, commit, kind: 'dockerfile', stack: '', reason, warnings: [] };
  }

  private async buildSource(
    plan: Plan,
    ws: Workspace,
    buildDir: string,
    stack: StackName,
    reason: string,
    files: ReturnType<SourcePort['files']>,
    commit: string,
    url: GitUrl,
    step: (n: BuildStep) => Step,
    signal: AbortSignal,
  ): Promise<{ localRef: string; source: string; commit: string; kind: 'source'; stack: string; reason: string; warnings: string[] }> {
    const build = step('build');
    const names = STACK_IMAGES_OF[stack];
    let images;
    try {
      const buildImage = await this.stacks.ensure(names.build, build.line, signal);
      const runImage = names.run === names.build ? buildImage : await this.stacks.ensure(names.run, build.line, signal);
      images = { build: buildImage, run: runImage };
    } catch (err) {
      throw build.failure(`the ${stack} stack image could not be made: ${(err as Error).message}`);
    }
    build.line(`stack image ${images.build.ref} (${stack} ${images.build.version})`);
    const warnings = runtimeWarnings(stack, files, images.build.version);
    for (const w of warnings) build.line(`warning: ${w}`, 'warn');
    let generated;
    try {
      generated = generateDockerfile({
        stack,
        files,
        images: { build: images.build.ref, run: images.run.ref },
        cacheScope: cacheScopeOf(plan.task.tenantId, plan.task.componentId),
        port: plan.port,
      });
    } catch (err) {
      throw build.failure((err as Error).message, []);
    }
    for (const note of generated.notes) build.line(note);
    const dockerfile = join(ws.gen, 'Dockerfile');
    this.source.write(dockerfile, generated.dockerfile);
    // The context's own .dockerignore, if any, plus what never belongs in an image.
    const ignore = join(buildDir, '.dockerignore');
    this.source.write(ignore, `${this.source.read(ignore) ?? ''}\n${generated.dockerignore}`);
    build.line('generated Dockerfile:');
    for (const l of generated.dockerfile.trimEnd().split('\n')) build.line(`  ${l}`);
    const localRef = `${plan.repository}:${plan.versionId}`;
    await this.runBuild(build, { contextDir: buildDir, dockerfile, tag: localRef, ws, signal });
    return { localRef, source: `${url.display}#${commit}`, commit, kind: 'source', stack: `${stack} ${images.build.version}`, reason, warnings };
  }

  private async runBuild(
    build: Step,
    req: { contextDir: string; dockerfile: string; tag: string; buildArgs?: Record<string, string>; target?: string; ws: Workspace; signal: AbortSignal },
  ): Promise<void> {
    const dockerConfigDir = join(req.ws.gen, 'docker');
    const auth = this.settings.registry.auth;
    // Credentials for FROM images in the data center's registry, for this build's CLI only.
    const config = auth
      ? { auths: { [this.settings.registry.address]: { auth: Buffer.from(`${auth.username}:${auth.password}`).toString('base64') } } }
      : { auths: {} };
    this.source.write(join(dockerConfigDir, 'config.json'), JSON.stringify(config), 0o600);
    try {
      const result = await this.images.build({
        contextDir: req.contextDir,
        dockerfile: req.dockerfile,
        tag: req.tag,
        buildArgs: req.buildArgs,
        target: req.target,
        secrets: { [CA_SECRET_ID]: this.settings.caBundle },
        dockerConfigDir,
        limits: this.settings.limits,
        signal: req.signal,
        onLine: build.line,
      });
      const cached = result.progress.cachedInstructions();
      if (cached.length) build.line(`reused from the build cache: ${cached.join('; ')}`);
      build.ok();
    } catch (err) {
      if (!(err instanceof ImageBuildError)) throw err;
      if (err.aborted) throw err;
      const failed = err.progress.failedInstruction();
      const code = exitCodeOf(failed?.error);
      const memory = `${Math.round(this.settings.limits.memoryBytes / 1048576)} MiB`;
      if (err.limits?.oomKilled || (code === 137 && (err.limits?.limited ?? 0) > 0)) {
        throw build.failure(`the build exceeded its memory limit of ${memory}${failed ? ` in ${failed.name}` : ''} and was killed`, err.lastLines);
      }
      throw build.failure(failed ? `${failed.name} failed${code !== undefined ? ` with exit code ${code}` : ''}` : err.message, err.lastLines);
    }
  }
}

/** fn, run at most once; later calls answer the first call's promise. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
