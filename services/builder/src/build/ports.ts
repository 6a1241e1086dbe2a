import type { eventsV1, tasksV1 } from '@wharf/contracts';
import type { ImageBuildRequest, ImageBuildResult } from '../adapters/buildkit.adapter';
import type { BuildLimits } from '../adapters/cgroup-limits.adapter';
import type { Checkout, CheckoutRequest } from '../adapters/git.adapter';
import type { PushResult, RegistryAuth } from '../adapters/registry.adapter';
import type { StackImage } from '../adapters/stack-images.adapter';
import type { ComponentFacts, VersionInit } from '../adapters/versions.adapter';
import type { Workspace } from '../adapters/workspace.adapter';
import type { BuildStep } from '../domain/build-failure';
import type { RepoFiles } from '../domain/repo-files';
import type { StackImageName } from '../domain/stacks';

/** What the build use case needs from the world; each is one adapter (fakes in the unit test). */

export interface StepLog {
  line(text: string, level?: 'info' | 'warn' | 'error'): void;
  ok(): void;
  fail(message: string): void;
}

/** One operation's timeline in event-log. */
export interface OperationLog {
  step(name: BuildStep): StepLog;
  /** Every step is reported: event-log decides the final status. */
  done(): void;
}

export interface VersionsPort {
  facts(componentId: string, buildEventId: string): Promise<ComponentFacts>;
  /** knownVersion: the stream's version facts() read (exists, not recorded), expected by the first append. */
  record(
    init: VersionInit & { componentId: string; buildEventId: string },
    knownVersion?: number,
  ): Promise<{ version: eventsV1.VersionRecorded; appended: boolean }>;
}

export interface SourcePort {
  workspace(label: string): Workspace;
  checkout(req: CheckoutRequest): Promise<Checkout>;
  files(dir: string): RepoFiles;
  /** A path of the checkout with links resolved, refused when it leaves the checkout or is missing. */
  inside(root: string, path: string, what: string): string;
  exists(path: string): boolean;
  write(path: string, content: string, mode?: number): void;
  read(path: string): string | undefined;
}

export interface StacksPort {
  ensure(name: StackImageName, log: (line: string) => void, signal?: AbortSignal): Promise<StackImage>;
}

export interface ImagesPort {
  build(req: ImageBuildRequest): Promise<ImageBuildResult>;
}

export interface RegistryPort {
  pull(ref: string, auth: RegistryAuth | undefined, onLine: (line: string) => void, signal?: AbortSignal): Promise<void>;
  tag(source: string, repository: string, tag: string): Promise<void>;
  push(repository: string, tag: string, auth: RegistryAuth | undefined, onLine: (line: string) => void): Promise<PushResult>;
  inspect(ref: string): Promise<{ id: string; size: number; repoDigests: string[] }>;
  untag(ref: string): Promise<void>;
}

/** Hands a build that deploys to app-manager (an UpgradeTask on mq under the same event id). */
export interface FollowUpPort {
  enqueue(task: tasksV1.Task): Promise<void>;
}

export interface BuildSettings {
  /** The data center's registry (host:port) and the builder's credentials for it. */
  registry: { address: string; auth?: { username: string; password: string } };
  /** The CA bundle builds trust (passed as a build secret). */
  caBundle: string;
  limits: BuildLimits;
  timeoutMs: number;
  maxRepoBytes: number;
  /** Keep the pushed image's local tag (the engine keeps the layers either way). */
  keepImages: boolean;
  /** Port a generated image listens on when the component declares none. */
  defaultPort: number;
}
