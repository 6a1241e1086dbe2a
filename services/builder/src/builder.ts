import Docker from 'dockerode';
import { createEtcdClient, KeyLayout } from '@wharf/etcd';
import { EventLogClient } from '@wharf/event-log-client';
import { EtcdEventStore } from '@wharf/event-store';
import type { Logger } from '@wharf/logging';
import { createMqClient, type MqClient } from '@wharf/mq-client';
import { NotFoundError } from '@wharf/errors';
import type { TransportSecurity } from '@wharf/pki';
import { SecretBox } from '@wharf/secrets';
import type { ReadinessCheck } from '@wharf/service-kit';
import { randomIds } from '@wharf/system';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import { BuildkitAdapter } from './adapters/buildkit.adapter';
import { CgroupLimiter } from './adapters/cgroup-limits.adapter';
import { GitAdapter } from './adapters/git.adapter';
import { hostDebian } from './adapters/host-apt.adapter';
import { RegistryAdapter } from './adapters/registry.adapter';
import { StackImagesAdapter } from './adapters/stack-images.adapter';
import { FollowUpQueue } from './adapters/task-queue.adapter';
import { VersionsAdapter } from './adapters/versions.adapter';
import { readRepoFiles, resolveInside, WorkspaceAdapter } from './adapters/workspace.adapter';
import { BuildConsumer } from './build/build-consumer';
import { BuildService } from './build/build.service';
import type { SourcePort } from './build/ports';
import type { BuilderConfig } from './main';
import type { BuilderMetrics } from './http/metrics';

export interface BuilderRuntime {
  consumer: BuildConsumer;
  checks: ReadinessCheck[];
  close(): Promise<void>;
}

function registryAuth(config: BuilderConfig): { username: string; password: string } | undefined {
  if (config.WHARF_BUILDER_REGISTRY_USERNAME && config.WHARF_BUILDER_REGISTRY_PASSWORD) {
    return { username: config.WHARF_BUILDER_REGISTRY_USERNAME, password: config.WHARF_BUILDER_REGISTRY_PASSWORD };
  }
  const file = config.WHARF_BUILDER_REGISTRY_CREDENTIALS_FILE;
  if (!file) return undefined;
  const text = readFileSync(file, 'utf8').trim();
  const colon = text.indexOf(':');
  if (colon <= 0) throw new Error(`WHARF_BUILDER_REGISTRY_CREDENTIALS_FILE: ${file} must hold user:password`);
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * Whether mq answers the builder as the builder. Stats is the operator's in the method table; an
 * Ack of a task that was never enqueued is mq's own refusal (not found) and touches no task.
 * Any other answer (unreachable, refused by the method table, ...) is not ready.
 */
async function mqAnswers(mq: MqClient): Promise<void> {
  try {
    await mq.ack({ topic: 'build', taskId: 'wharf-builder-readiness-probe', leaseId: 'none' }, { timeoutMs: 2000 });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}

const check = (name: string, fn: () => Promise<unknown>): ReadinessCheck => ({
  name,
  async check() {
    try {
      await fn();
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: `${name} unreachable: ${(err as Error).message}` };
    }
  },
});

/** The composition root: every adapter made once from the configuration and wired into the consumer. */
export function createBuilder(config: BuilderConfig, logger: Logger, metrics: BuilderMetrics, security: TransportSecurity): BuilderRuntime {
  const workDir = config.WHARF_BUILDER_WORK_DIR;
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  if (!existsSync(config.WHARF_BUILDER_CA_BUNDLE)) throw new Error(`WHARF_BUILDER_CA_BUNDLE: ${config.WHARF_BUILDER_CA_BUNDLE} does not exist`);
  if (!existsSync(config.WHARF_BUILDER_DOCKER_CLI))
    throw new Error(`WHARF_BUILDER_DOCKER_CLI: ${config.WHARF_BUILDER_DOCKER_CLI} does not exist (Debian package docker.io)`);
  const docker = new Docker({ socketPath: config.WHARF_DOCKER_SOCKET });
  const etcd = createEtcdClient({ endpoints: config.WHARF_ETCD_ENDPOINTS, security });
  const store = new EtcdEventStore({ client: etcd, keys: new KeyLayout(config.WHARF_ETCD_PREFIX) });
  const mq = createMqClient(config.WHARF_MQ_ADDR, security);
  const eventLog = new EventLogClient({
    address: config.WHARF_EVENTLOG_ADDR,
    security,
    onWarning: (message, err) => logger.warn({ err }, `event-log: ${message}`),
  });
  const limiter = new CgroupLimiter({ onWarning: (m) => logger.warn(m) });
  if (!limiter.available) logger.warn('no cgroup hierarchy found: cpu and memory limits of builds are not enforced');
  else logger.info(`build limits: ${config.WHARF_BUILDER_MEMORY_MIB} MiB, ${config.WHARF_BUILDER_CPUS} CPUs per RUN step (${limiter.description})`);
  const buildkit = new BuildkitAdapter({
    dockerCli: config.WHARF_BUILDER_DOCKER_CLI,
    dockerSocket: config.WHARF_DOCKER_SOCKET,
    limiter,
    noProxy: config.WHARF_BUILDER_NO_PROXY,
    marker: () => `wharf-build-${randomIds.hex(8)}`,
    scratchDir: workDir,
  });
  const debian = hostDebian({ suite: config.WHARF_BUILDER_STACK_SUITE, mirror: config.WHARF_BUILDER_DEBIAN_MIRROR });
  const stacks = new StackImagesAdapter({ docker, buildkit, ...debian, workDir, repository: config.WHARF_BUILDER_STACK_REPOSITORY });
  const workspaces = new WorkspaceAdapter(workDir);
  const swept = workspaces.sweep(config.WHARF_BUILDER_TIMEOUT_S * 2000, Date.now());
  if (swept) logger.info(`removed ${swept} build directories left by earlier processes`);
  const emptyCaDir = join(workDir, 'git-ca-dir');
  mkdirSync(emptyCaDir, { recursive: true, mode: 0o700 });
  const git = new GitAdapter({
    idleTimeoutMs: config.WHARF_BUILDER_GIT_IDLE_TIMEOUT_S * 1000,
    trust: { caBundle: config.WHARF_BUILDER_CA_BUNDLE, emptyCaDir },
  });
  const source: SourcePort = {
    workspace: (label) => workspaces.create(label),
    checkout: (req) => git.checkout(req),
    files: readRepoFiles,
    inside: resolveInside,
    exists: existsSync,
    write: (path, content, mode) => {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content, mode === undefined ? undefined : { mode });
    },
    read: (path) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined),
  };
  const service = new BuildService(
    {
      registry: { address: config.WHARF_BUILDER_REGISTRY, auth: registryAuth(config) },
      caBundle: config.WHARF_BUILDER_CA_BUNDLE,
      limits: { memoryBytes: config.WHARF_BUILDER_MEMORY_MIB * 1048576, cpus: config.WHARF_BUILDER_CPUS },
      timeoutMs: config.WHARF_BUILDER_TIMEOUT_S * 1000,
      maxRepoBytes: config.WHARF_BUILDER_MAX_REPO_MIB * 1048576,
      keepImages: config.WHARF_BUILDER_KEEP_IMAGES,
      defaultPort: config.WHARF_BUILDER_DEFAULT_PORT,
    },
    new VersionsAdapter(store),
    source,
    stacks,
    buildkit,
    new RegistryAdapter(docker),
    new FollowUpQueue(mq),
    config.WHARF_SECRET_KEY ? new SecretBox(SecretBox.parseKey(config.WHARF_SECRET_KEY)) : undefined,
  );
  const consumer = new BuildConsumer(mq, service, eventLog, logger, metrics, {
    concurrency: config.WHARF_BUILDER_CONCURRENCY,
    leaseMs: config.WHARF_BUILDER_LEASE_MS,
    consumer: config.WHARF_BUILDER_INSTANCE ?? `builder-${hostname()}-${process.pid}`,
  });
  return {
    consumer,
    checks: [check('etcd', () => etcd.maintenance.status()), check('docker', () => docker.ping()), check('mq', () => mqAnswers(mq))],
    async close() {
      await consumer.close();
      await eventLog.close();
      mq.close();
      etcd.close();
    },
  };
}
