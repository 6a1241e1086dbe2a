import { UnavailableError } from '@wharf/errors';
import Docker from 'dockerode';
import { hostname } from 'node:os';
import { fromLabels, LABEL, matchesSelector, selectorFilters } from '../labels';
import { networkName, registryOf, replicaName, volumeName, withSuffix } from '../names';
import {
  ReplicaCreateError,
  type CreateOptions,
  type ExecResult,
  type LogOptions,
  type ReplicaEvent,
  type ReplicaLogLine,
  type ReplicaSelector,
  type ReplicaSpec,
  type ReplicaState,
  type ReplicaUsage,
  type RuntimeDriver,
} from '../runtime-driver';
import { validateReplicaSpec } from '../validate-spec';
import { createOptions, DockerLogDemuxer, isOurs, listKey, replicaFromInspect, usageFromStats } from './docker-mapping';

export interface DockerDriverOptions {
  /** The engine's unix socket (WHARF_DOCKER_SOCKET), default /var/run/docker.sock. */
  socketPath?: string;
  /** Or a client made elsewhere (tests). */
  docker?: Docker;
  dataCenter: string;
  /** First part of every name (default "wharf"): data centers sharing an engine use different ones. */
  namePrefix?: string;
  /** Registry hosts images may be pulled from (e.g. the data center's 127.0.0.1:32500); any other image must be on the engine already. */
  pullRegistries?: string[];
  /** Credentials for pulls from those registries. */
  registryAuth?: { username: string; password: string; serveraddress: string };
  /** Host IP published ports bind to (default 127.0.0.1: never all interfaces). */
  publishHost?: string;
  /** Name of this machine in statuses (default: the host name). */
  node?: string;
  /**
   * A lock shared by every process driving this engine for this data center (app-manager passes
   * an etcd one). Docker 20.10 does not keep network names unique: two processes creating a
   * tenant's network at once make two, and a container on that name then fails to start
   * ("network ... is ambiguous"). Without it, only this process's own calls are serialized.
   */
  exclusive?: <T>(key: string, work: () => Promise<T>) => Promise<T>;
}

type DockerError = Error & { statusCode?: number; code?: string; json?: { message?: string }; reason?: string };

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EACCES', 'ETIMEDOUT']);

/** The engine's own message of a failed call. */
function messageOf(err: unknown): string {
  const e = err as DockerError;
  const json = e.json as unknown;
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') return (json as { message: string }).message;
  if (Buffer.isBuffer(json)) return json.toString().trim();
  return e.message ?? String(err);
}

function unreachable(err: unknown): boolean {
  const e = err as DockerError;
  return (e.code !== undefined && CONNECTION_ERRORS.has(e.code)) || /socket hang up|connect E/.test(e.message ?? '');
}

/**
 * RuntimeDriver on one Docker Engine (dockerode, Engine API 1.41). Replicas are containers
 * labelled with the data center; everything this driver lists, changes or removes carries that
 * label, so data centers (and test runs) sharing an engine never touch each other's containers.
 * One bridge network per tenant: replicas of a tenant reach each other by name, and Docker's
 * isolation rules keep other tenants' networks apart. Health probes run in app-manager.
 */
export class DockerDriver implements RuntimeDriver {
  readonly kind = 'docker';
  readonly capabilities = { probes: 'manager', rollout: 'manager' } as const;
  readonly dataCenter: string;
  readonly namePrefix: string;
  private readonly docker: Docker;
  private readonly node: string;
  private readonly publishHost: string;
  /** Inspected containers by id, valid while the list call shows the same state. */
  private readonly inspected = new Map<string, { key: string; state: ReplicaState }>();
  /** Network id by name, once known. */
  private readonly networks = new Map<string, Promise<string>>();

  constructor(private readonly options: DockerDriverOptions) {
    this.docker = options.docker ?? new Docker({ socketPath: options.socketPath ?? '/var/run/docker.sock' });
    this.dataCenter = options.dataCenter;
    this.namePrefix = options.namePrefix ?? 'wharf';
    this.node = options.node ?? hostname();
    this.publishHost = options.publishHost ?? '127.0.0.1';
    if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(this.namePrefix)) throw new Error(`docker name prefix ${JSON.stringify(this.namePrefix)} must be a short DNS label`);
    // Replicas are reached through the gateway; a published port is for the machine itself only.
    if (!/^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1)$/.test(this.publishHost)) throw new Error(`publish host ${this.publishHost} must be a loopback address`);
  }

  /** Runs an engine call; a lost engine becomes UnavailableError (retry later), anything else is rethrown. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (unreachable(err)) throw new UnavailableError(`Docker Engine unreachable (${what}): ${(err as Error).message}`, { cause: err, retryAfterMs: 1000 });
      throw err;
    }
  }

  async ping(): Promise<void> {
    await this.call('ping', () => this.docker.ping());
  }

  network(tenantId: string): string {
    return networkName(this.namePrefix, tenantId);
  }

  async listReplicas(selector: ReplicaSelector = {}): Promise<ReplicaState[]> {
    const list = await this.call('list', () => this.docker.listContainers({ all: true, filters: { label: selectorFilters(this.dataCenter, selector) } }));
    const seen = new Set<string>();
    const out: ReplicaState[] = [];
    await Promise.all(
      list.map(async (c) => {
        seen.add(c.Id);
        const labels = fromLabels(c.Labels);
        if (!labels || !matchesSelector(labels, this.dataCenter, selector)) return;
        const key = listKey(c);
        const cached = this.inspected.get(c.Id);
        if (cached && cached.key === key) return void out.push(cached.state);
        const state = await this.inspectReplica(c.Id);
        if (state) {
          this.inspected.set(c.Id, { key, state });
          out.push(state);
        }
      }),
    );
    // Forget containers that are gone (only a full listing knows all of them).
    if (Object.keys(selector).length === 0) for (const id of this.inspected.keys()) if (!seen.has(id)) this.inspected.delete(id);
    return out.sort((a, b) => a.labels.slot - b.labels.slot || a.name.localeCompare(b.name));
  }

  async inspectReplica(id: string): Promise<ReplicaState | undefined> {
    try {
      const info = await this.call('inspect', () => this.docker.getContainer(id).inspect());
      if (!isOurs(info.Config, this.dataCenter)) return undefined;
      const labels = fromLabels(info.Config.Labels);
      return labels ? replicaFromInspect(info, this.network(labels.tenantId), this.node) : undefined;
    } catch (err) {
      if ((err as DockerError).statusCode === 404) return undefined;
      throw err;
    }
  }

  async createReplica(spec: ReplicaSpec, options: CreateOptions = {}): Promise<ReplicaState> {
    validateReplicaSpec(spec);
    if (spec.labels.dataCenter !== this.dataCenter)
      throw new ReplicaCreateError('invalid_spec', `replica of data center ${spec.labels.dataCenter} given to the driver of ${this.dataCenter}`);
    const network = await this.ensureNetwork(spec.labels.tenantId, this.network(spec.labels.tenantId));
    await this.ensureImage(spec.image, options);
    const volumes: Record<string, string> = {};
    for (const v of spec.volumes) volumes[v.name] = await this.ensureVolume(spec, v.name);
    let name = replicaName(this.namePrefix, spec.names, spec.labels.slot);
    const naming = { network, volumes, publishHost: this.publishHost };
    let container: Docker.Container | undefined;
    /** Found already made (a retry): it may be running, so it is inspected before a start. */
    let existed = false;
    for (let attempt = 0; attempt < 2 && !container; attempt++) {
      try {
        container = await this.call('create', () =>
          this.docker.createContainer({ ...createOptions(spec, name, naming), abortSignal: options.signal } as Docker.ContainerCreateOptions),
        );
      } catch (err) {
        const e = err as DockerError;
        if (e.statusCode === 404 && /network/i.test(messageOf(err))) {
          this.networks.delete(this.network(spec.labels.tenantId)); // removed behind our back: made again on the next try
          throw new ReplicaCreateError('start_failed', `the tenant network went away: ${messageOf(err)}`, { cause: err });
        }
        if (e.statusCode === 404) throw new ReplicaCreateError('image_missing', `image ${spec.image} is not on the engine: ${messageOf(err)}`, { cause: err });
        if (e.statusCode === 400) throw new ReplicaCreateError('invalid_spec', `the engine refused the replica: ${messageOf(err)}`, { cause: err });
        if (e.statusCode !== 409) throw this.createFailure(err);
        const existing = await this.inspectReplica(name);
        if (existing && existing.labels.componentId === spec.labels.componentId && existing.labels.slot === spec.labels.slot) {
          if (existing.labels.template !== spec.labels.template)
            throw new ReplicaCreateError(
              'name_taken',
              `${name} is still taken by the previous replica of slot ${spec.labels.slot} (template ${existing.labels.template})`,
            );
          // Created before (a retry after a crash or a lost answer): start it if needed.
          container = this.docker.getContainer(existing.id);
          existed = true;
        } else if (attempt === 0) {
          name = withSuffix(name, spec.labels.componentId); // another component (or data center) owns the readable name
        } else {
          throw new ReplicaCreateError('name_taken', `container name ${name} is taken by a container that is not this replica`, { cause: err });
        }
      }
    }
    try {
      const running = existed && (await this.call('inspect', () => container!.inspect())).State.Status === 'running';
      if (!running) await this.call('start', () => container!.start());
    } catch (err) {
      // A replica that cannot start is removed at once: nothing half-made is left behind.
      await container!.remove({ force: true, v: true }).catch(() => undefined);
      throw this.createFailure(err, spec);
    }
    const state = await this.inspectReplica(container!.id);
    if (!state) throw new ReplicaCreateError('start_failed', `${name} vanished right after it started`);
    return state;
  }

  private createFailure(err: unknown, spec?: ReplicaSpec): Error {
    if (err instanceof UnavailableError) return err;
    const message = messageOf(err);
    if (/port is already allocated|address already in use/i.test(message)) {
      const ports = spec?.ports.filter((p) => p.hostPort).map((p) => `${this.publishHost}:${p.hostPort}`) ?? [];
      return new ReplicaCreateError('port_taken', `host port ${ports.join(', ')} is already in use: ${message}`, { cause: err });
    }
    return new ReplicaCreateError('start_failed', `the engine could not start the replica: ${message}`, { cause: err });
  }

  private exclusively<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.options.exclusive ? this.options.exclusive(key, work) : work();
  }

  /** The tenant's network id, created once (several creates of one tenant share the promise). */
  private ensureNetwork(tenantId: string, name: string): Promise<string> {
    let pending = this.networks.get(name);
    if (!pending) {
      pending = this.exclusively(`docker-network/${tenantId}`, () => this.findOrCreateNetwork(tenantId, name)).catch((err) => {
        this.networks.delete(name);
        throw err;
      });
      this.networks.set(name, pending);
    }
    return pending;
  }

  /**
   * Docker does not keep network names unique: two app-managers (or two creates) racing make two
   * networks of one name, and the name is then "ambiguous". So networks are found by their
   * labels, the one with the lowest id is the tenant's (every instance picks the same), and the
   * extra empty ones are removed.
   */
  private async findOrCreateNetwork(tenantId: string, name: string): Promise<string> {
    const ours = async () =>
      (
        await this.call('network list', () =>
          this.docker.listNetworks({ filters: { label: [`${LABEL.dataCenter}=${this.dataCenter}`, `${LABEL.tenantId}=${tenantId}`] } }),
        )
      )
        .filter((n) => n.Name === name)
        .sort((a, b) => a.Id.localeCompare(b.Id));
    let found = await ours();
    if (found.length === 0) {
      try {
        await this.call('network create', () =>
          this.docker.createNetwork({
            Name: name,
            Driver: 'bridge',
            CheckDuplicate: true,
            Labels: { [LABEL.dataCenter]: this.dataCenter, [LABEL.tenantId]: tenantId },
          }),
        );
      } catch (err) {
        if ((err as DockerError).statusCode !== 409) throw err;
        // A network of that name exists: ours (made meanwhile) or somebody else's.
      }
      found = await ours();
      if (found.length === 0)
        throw new ReplicaCreateError('name_taken', `Docker network ${name} exists but is not tenant ${tenantId}'s network of data center ${this.dataCenter}`);
    }
    const [chosen, ...extra] = found;
    for (const n of extra)
      await this.docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined); // in use: left alone
    return chosen.Id;
  }

  private async ensureImage(image: string, options: CreateOptions): Promise<void> {
    try {
      await this.call('image inspect', () => this.docker.getImage(image).inspect());
      return;
    } catch (err) {
      if ((err as DockerError).statusCode !== 404) throw err;
    }
    const registry = registryOf(image);
    // Pulling reaches out of the machine: only from the registries this data center names.
    if (!(this.options.pullRegistries ?? []).includes(registry))
      throw new ReplicaCreateError('image_missing', `image ${image} is not on the engine, and ${registry} is not a registry this data center pulls from`);
    options.onProgress?.(`pulling ${image}`);
    try {
      const auth = this.options.registryAuth && this.options.registryAuth.serveraddress === registry ? { authconfig: this.options.registryAuth } : {};
      const stream = await this.call('pull', () => this.docker.pull(image, { ...auth, abortSignal: options.signal }) as Promise<NodeJS.ReadableStream>);
      await new Promise<void>((resolve, reject) =>
        this.docker.modem.followProgress(
          stream,
          (err: Error | null, out: { error?: string }[]) => {
            const failed = out?.find((o) => o.error);
            if (err || failed) reject(new Error(err?.message ?? failed!.error));
            else resolve();
          },
          (event: { status?: string; id?: string; progress?: string }) => {
            if (event.status && !event.progress) options.onProgress?.(`pulling ${image}: ${event.id ? `${event.id} ` : ''}${event.status}`);
          },
        ),
      );
    } catch (err) {
      if (err instanceof UnavailableError) throw err;
      throw new ReplicaCreateError('image_missing', `image ${image} could not be pulled from ${registry}: ${messageOf(err)}`, { cause: err });
    }
  }

  private async ensureVolume(spec: ReplicaSpec, volume: string): Promise<string> {
    const name = volumeName(this.namePrefix, spec.names, volume, spec.labels.slot);
    const labels = {
      [LABEL.dataCenter]: this.dataCenter,
      [LABEL.tenantId]: spec.labels.tenantId,
      [LABEL.appId]: spec.labels.appId,
      [LABEL.componentId]: spec.labels.componentId,
      [LABEL.slot]: String(spec.labels.slot),
      [LABEL.volume]: volume,
    };
    // Creating a volume that exists returns it as it is: check it is this replica's.
    const created = (await this.call('volume create', () => this.docker.createVolume({ Name: name, Labels: labels }))) as unknown as {
      Labels?: Record<string, string>;
      inspect?: () => Promise<{ Labels?: Record<string, string> }>;
    };
    const info = created.Labels ? created : await this.docker.getVolume(name).inspect();
    if (info.Labels?.[LABEL.dataCenter] !== this.dataCenter || info.Labels?.[LABEL.componentId] !== spec.labels.componentId)
      throw new ReplicaCreateError('name_taken', `Docker volume ${name} exists but is not this component's volume`);
    return name;
  }

  async removeReplica(id: string, options: { graceMs?: number } = {}): Promise<void> {
    const container = this.docker.getContainer(id);
    try {
      const info = await this.call('inspect', () => container.inspect());
      if (!isOurs(info.Config, this.dataCenter)) throw new Error(`container ${id} is not a replica of data center ${this.dataCenter}; not removing it`);
      if (info.State.Running)
        await this.call('stop', () => container.stop({ t: Math.max(0, Math.ceil((options.graceMs ?? 10_000) / 1000)) })).catch(ignore(304));
      await this.call('remove', () => container.remove({ force: true, v: true }));
    } catch (err) {
      if ((err as DockerError).statusCode === 404) return;
      if ((err as DockerError).statusCode === 409 && /already in progress/.test(messageOf(err))) return;
      throw err;
    }
    this.inspected.delete(id);
  }

  async removeVolumes(selector: ReplicaSelector): Promise<string[]> {
    const filters = selectorFilters(this.dataCenter, {
      tenantId: selector.tenantId,
      appId: selector.appId,
      componentId: selector.componentId,
      slot: selector.slot,
    });
    const res = await this.call('volume list', () => this.docker.listVolumes({ filters: { label: filters } }));
    const removed: string[] = [];
    for (const v of res.Volumes ?? []) {
      if (v.Labels?.[LABEL.dataCenter] !== this.dataCenter) continue;
      await this.call('volume remove', () => this.docker.getVolume(v.Name).remove()).catch(ignore(404));
      removed.push(v.Name);
    }
    return removed;
  }

  async releaseTenant(tenantId: string): Promise<boolean> {
    const name = this.network(tenantId);
    this.networks.delete(name);
    // Under the creators' lock: a network removed while another process picks it would be gone.
    return this.exclusively(`docker-network/${tenantId}`, async () => {
      const networks = await this.call('network list', () =>
        this.docker.listNetworks({ filters: { label: [`${LABEL.dataCenter}=${this.dataCenter}`, `${LABEL.tenantId}=${tenantId}`] } }),
      );
      let removed = true;
      for (const n of networks) {
        try {
          const info = await this.call('network inspect', () => this.docker.getNetwork(n.Id).inspect());
          if (Object.keys(info.Containers ?? {}).length > 0) {
            removed = false;
            continue;
          }
          await this.call('network remove', () => this.docker.getNetwork(n.Id).remove());
        } catch (err) {
          const code = (err as DockerError).statusCode;
          if (code === 404) continue;
          if (code === 403 || code === 409) {
            removed = false; // still in use
            continue;
          }
          throw err;
        }
      }
      return removed;
    });
  }

  async exec(id: string, command: string[], options: { timeoutMs: number }): Promise<ExecResult> {
    const container = this.docker.getContainer(id);
    const exec = await this.call('exec', () => container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true }));
    const stream = await this.call('exec start', () => exec.start({ hijack: true, stdin: false }));
    const demux = new DockerLogDemuxer();
    let output = '';
    const add = (lines: ReplicaLogLine[]) => {
      for (const l of lines) if (output.length < 4096) output += `${l.text}\n`;
    };
    const timedOut = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => (stream.destroy(), resolve(true)), options.timeoutMs);
      // The hijacked stream carries the same frame headers as logs (no timestamps: timeMs 0).
      stream.on('data', (chunk: Buffer) => add(demux.push(chunk)));
      stream.on('end', () => (clearTimeout(timer), resolve(false)));
      stream.on('error', () => (clearTimeout(timer), resolve(false)));
    });
    add(demux.end());
    if (timedOut) return { exitCode: -1, output: `${output}[timed out after ${options.timeoutMs} ms]` };
    const info = await this.call('exec inspect', () => exec.inspect());
    return { exitCode: info.ExitCode ?? -1, output: output.trimEnd() };
  }

  async *logs(id: string, options: LogOptions): AsyncIterable<ReplicaLogLine> {
    const container = this.docker.getContainer(id);
    const base = {
      stdout: true,
      stderr: true,
      timestamps: true,
      tail: options.tail,
      ...(options.sinceMs ? { since: Math.floor(options.sinceMs / 1000) } : {}),
    };
    const demux = new DockerLogDemuxer();
    if (!options.follow) {
      let buf: Buffer;
      try {
        buf = await this.call('logs', () => container.logs({ ...base, follow: false }));
      } catch (err) {
        if ((err as DockerError).statusCode === 404) return;
        throw err;
      }
      yield* demux.push(buf);
      yield* demux.end();
      return;
    }
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.call('logs', () =>
        container.logs({ ...base, follow: true, abortSignal: options.signal } as Docker.ContainerLogsOptions & { follow: true }),
      );
    } catch (err) {
      if ((err as DockerError).statusCode === 404 || options.signal?.aborted) return;
      throw err;
    }
    const stop = () => (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) yield* demux.push(chunk);
      yield* demux.end();
    } catch (err) {
      if (!options.signal?.aborted) throw err;
    } finally {
      options.signal?.removeEventListener('abort', stop);
    }
  }

  async usage(id: string): Promise<ReplicaUsage | undefined> {
    try {
      const stats = await this.call('stats', () => this.docker.getContainer(id).stats({ stream: false }));
      return stats.memory_stats?.usage === undefined ? undefined : usageFromStats(stats);
    } catch (err) {
      if ((err as DockerError).statusCode === 404 || (err as DockerError).statusCode === 409) return undefined;
      throw err;
    }
  }

  watch(onEvent: (event: ReplicaEvent) => void, onError?: (err: Error) => void): () => void {
    let stopped = false;
    let stream: (NodeJS.ReadableStream & { destroy(): void }) | undefined;
    let failures = 0;
    const kinds: Record<string, ReplicaEvent['kind']> = { create: 'created', start: 'started', die: 'died', oom: 'oom', destroy: 'removed' };
    const run = async () => {
      while (!stopped) {
        try {
          stream = (await this.docker.getEvents({
            filters: { type: ['container'], label: [`${LABEL.dataCenter}=${this.dataCenter}`] },
          })) as NodeJS.ReadableStream & { destroy(): void };
          failures = 0;
          let rest = '';
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            const lines = (rest + chunk.toString()).split('\n');
            rest = lines.pop() ?? '';
            for (const line of lines) {
              if (!line.trim()) continue;
              const e = JSON.parse(line) as { Action?: string; id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
              const kind = kinds[e.Action ?? ''] ?? 'changed';
              const id = e.Actor?.ID ?? e.id ?? '';
              if (kind === 'removed') this.inspected.delete(id);
              onEvent({ kind, id, labels: fromLabels(e.Actor?.Attributes) });
            }
          }
          if (!stopped) throw new Error('Docker event stream ended');
        } catch (err) {
          if (stopped) return;
          onError?.(err as Error);
          await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** failures++)));
        }
      }
    };
    void run();
    return () => {
      stopped = true;
      stream?.destroy();
    };
  }
}

function ignore(status: number) {
  return (err: unknown) => {
    if ((err as DockerError).statusCode !== status) throw err;
  };
}
