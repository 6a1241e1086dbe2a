import { UnavailableError } from '@wharf/errors';
import {
  matchesSelector,
  replicaName,
  ReplicaCreateError,
  validateReplicaSpec,
  volumeName,
  withSuffix,
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
} from '@wharf/runtime';

/** How a fake image behaves once started. */
export interface FakeImage {
  /** Lines it writes at start. */
  logs?: string[];
  /** Exits this long after start (with exitCode, default 1). */
  exitAfterMs?: number;
  exitCode?: number;
  /** Killed for exceeding its memory this long after start. */
  oomAfterMs?: number;
  /** Writes "tick N" this often. */
  tickEveryMs?: number;
}

interface FakeContainer {
  state: ReplicaState;
  spec: ReplicaSpec;
  logs: ReplicaLogLine[];
  followers: Set<(l: ReplicaLogLine | null) => void>;
  timer?: NodeJS.Timeout;
  ticker?: NodeJS.Timeout;
}

/**
 * One fake engine that several MemoryRuntimeDrivers (one per data center) share, as data
 * centers share a Docker Engine. Tests drive it: images and their behaviour, crashes and
 * removals behind the platform's back, the engine going away.
 */
export class FakeRuntime {
  readonly images = new Map<string, FakeImage>();
  readonly containers = new Map<string, FakeContainer>();
  readonly volumes = new Map<string, { labels: Record<string, string>; files: Map<string, string> }>();
  readonly hostPorts = new Set<number>();
  readonly listeners = new Set<(e: ReplicaEvent & { dataCenter: string }) => void>();
  /** While true every call fails as if the engine were gone. */
  down = false;
  /** Calls of createReplica, for tests that count work. */
  creates = 0;
  private seq = 0;

  constructor(readonly node = 'fake-node') {}

  nextId(): string {
    return `fake${(++this.seq).toString(16).padStart(12, '0')}`;
  }

  emit(kind: ReplicaEvent['kind'], c: FakeContainer): void {
    for (const l of this.listeners) l({ kind, id: c.state.id, labels: c.state.labels, dataCenter: c.state.labels.dataCenter });
  }

  /** The process of a replica ends (a crash, or OOM when oom is set). */
  exit(id: string, exitCode: number, oom = false): void {
    const c = this.containers.get(id);
    if (!c || c.state.phase !== 'running') return;
    clearTimeout(c.timer);
    clearInterval(c.ticker);
    c.state = { ...c.state, phase: 'exited', exitCode, finishedAtMs: Date.now(), ...(oom ? { oomKilled: true } : {}) };
    for (const p of c.spec.ports) if (p.hostPort) this.hostPorts.delete(p.hostPort);
    for (const f of c.followers) f(null);
    c.followers.clear();
    this.emit(oom ? 'oom' : 'died', c);
  }

  /** Someone removes a replica with the engine's own tools. */
  removeBehindBack(id: string): void {
    const c = this.containers.get(id);
    if (!c) return;
    this.exit(id, 137);
    this.containers.delete(id);
    this.emit('removed', c);
  }

  /** A line written by a replica now. */
  write(id: string, text: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const c = this.containers.get(id);
    if (!c || c.state.phase !== 'running') return;
    const line = { timeMs: Date.now(), stream, text };
    c.logs.push(line);
    for (const f of c.followers) f(line);
  }
}

/** RuntimeDriver over a FakeRuntime: what app-manager's unit tests run against. */
export class MemoryRuntimeDriver implements RuntimeDriver {
  readonly kind = 'memory';
  readonly capabilities = { probes: 'manager', rollout: 'manager' } as const;

  constructor(
    readonly runtime: FakeRuntime,
    readonly dataCenter: string,
    readonly namePrefix = 'wharf',
  ) {}

  private up(what: string): void {
    if (this.runtime.down) throw new UnavailableError(`fake runtime unreachable (${what})`);
  }

  private mine(id: string): FakeContainer | undefined {
    const c = this.runtime.containers.get(id) ?? [...this.runtime.containers.values()].find((x) => x.state.name === id);
    return c && c.state.labels.dataCenter === this.dataCenter ? c : undefined;
  }

  async ping(): Promise<void> {
    this.up('ping');
  }

  async listReplicas(selector: ReplicaSelector = {}): Promise<ReplicaState[]> {
    this.up('list');
    return [...this.runtime.containers.values()]
      .map((c) => c.state)
      .filter((s) => matchesSelector(s.labels, this.dataCenter, selector))
      .map((s) => ({ ...s }))
      .sort((a, b) => a.labels.slot - b.labels.slot || a.name.localeCompare(b.name));
  }

  async inspectReplica(id: string): Promise<ReplicaState | undefined> {
    this.up('inspect');
    const c = this.mine(id);
    return c ? { ...c.state } : undefined;
  }

  async createReplica(spec: ReplicaSpec, options: CreateOptions = {}): Promise<ReplicaState> {
    this.up('create');
    this.runtime.creates++;
    validateReplicaSpec(spec);
    const image = this.runtime.images.get(spec.image);
    if (!image) throw new ReplicaCreateError('image_missing', `image ${spec.image} is not on the engine`);
    options.onProgress?.(`using ${spec.image}`);
    let name = replicaName(this.namePrefix, spec.names, spec.labels.slot);
    const existing = [...this.runtime.containers.values()].find((c) => c.state.name === name);
    if (existing) {
      const l = existing.state.labels;
      if (l.dataCenter === this.dataCenter && l.componentId === spec.labels.componentId && l.slot === spec.labels.slot) {
        if (l.template === spec.labels.template) return { ...existing.state };
        throw new ReplicaCreateError('name_taken', `${name} is still taken by the previous replica of slot ${l.slot}`);
      }
      name = withSuffix(name, spec.labels.componentId);
    }
    const taken = spec.ports.find((p) => p.hostPort && this.runtime.hostPorts.has(p.hostPort));
    if (taken) throw new ReplicaCreateError('port_taken', `host port 127.0.0.1:${taken.hostPort} is already in use`);
    for (const v of spec.volumes) {
      const vn = volumeName(this.namePrefix, spec.names, v.name, spec.labels.slot);
      if (!this.runtime.volumes.has(vn))
        this.runtime.volumes.set(vn, {
          labels: { dataCenter: this.dataCenter, componentId: spec.labels.componentId, slot: String(spec.labels.slot) },
          files: new Map(),
        });
    }
    for (const p of spec.ports) if (p.hostPort) this.runtime.hostPorts.add(p.hostPort);
    const id = this.runtime.nextId();
    const now = Date.now();
    const c: FakeContainer = {
      spec,
      logs: (image.logs ?? []).map((text) => ({ timeMs: now, stream: 'stdout' as const, text })),
      followers: new Set(),
      state: {
        id,
        name,
        labels: { ...spec.labels },
        phase: 'running',
        startedAtMs: now,
        address: `10.88.0.${(this.runtime.containers.size % 250) + 2}`,
        node: this.runtime.node,
        hostPorts: spec.ports.filter((p) => p.hostPort).map((p) => ({ port: p.port, hostPort: p.hostPort! })),
      },
    };
    this.runtime.containers.set(id, c);
    this.runtime.emit('created', c);
    this.runtime.emit('started', c);
    if (image.exitAfterMs !== undefined) c.timer = setTimeout(() => this.runtime.exit(id, image.exitCode ?? 1), image.exitAfterMs);
    else if (image.oomAfterMs !== undefined) c.timer = setTimeout(() => this.runtime.exit(id, 137, true), image.oomAfterMs);
    c.timer?.unref();
    if (image.tickEveryMs) {
      let tick = 0;
      c.ticker = setInterval(() => this.runtime.write(id, `tick ${tick++}`), image.tickEveryMs);
      c.ticker.unref();
    }
    return { ...c.state };
  }

  async removeReplica(id: string, _options: { graceMs?: number } = {}): Promise<void> {
    this.up('remove');
    const c = this.runtime.containers.get(id);
    if (!c) return;
    if (c.state.labels.dataCenter !== this.dataCenter) throw new Error(`container ${id} is not a replica of data center ${this.dataCenter}; not removing it`);
    this.runtime.exit(id, 0);
    this.runtime.containers.delete(id);
    this.runtime.emit('removed', c);
  }

  async removeVolumes(selector: ReplicaSelector): Promise<string[]> {
    this.up('volumes');
    const removed: string[] = [];
    for (const [name, v] of this.runtime.volumes) {
      if (v.labels.dataCenter !== this.dataCenter) continue;
      if (selector.componentId !== undefined && v.labels.componentId !== selector.componentId) continue;
      this.runtime.volumes.delete(name);
      removed.push(name);
    }
    return removed;
  }

  async releaseTenant(tenantId: string): Promise<boolean> {
    this.up('network');
    return ![...this.runtime.containers.values()].some((c) => c.state.labels.dataCenter === this.dataCenter && c.state.labels.tenantId === tenantId);
  }

  /** Understands `env`, `cat FILE` and `sh -c "echo TEXT > FILE"` on volumes; exit 0 with no output otherwise. */
  async exec(id: string, command: string[], _options: { timeoutMs: number }): Promise<ExecResult> {
    this.up('exec');
    const c = this.mine(id);
    if (!c || c.state.phase !== 'running') throw new Error(`replica ${id} is not running`);
    const volumeAt = (path: string) => {
      const v = c.spec.volumes.find((x) => path.startsWith(`${x.mountPath}/`));
      return v && this.runtime.volumes.get(volumeName(this.namePrefix, c.spec.names, v.name, c.spec.labels.slot));
    };
    if (command[0] === 'env') return { exitCode: 0, output: c.spec.env.map((e) => `${e.name}=${e.value}`).join('\n') };
    if (command[0] === 'cat' && command[1]) {
      const text = volumeAt(command[1])?.files.get(command[1]);
      return text === undefined ? { exitCode: 1, output: `cat: can't open '${command[1]}': No such file or directory` } : { exitCode: 0, output: text };
    }
    const write = command[0] === 'sh' && command[1] === '-c' ? /^echo (.*) > (\S+)$/.exec(command[2] ?? '') : null;
    if (write) {
      const v = volumeAt(write[2]);
      if (v) v.files.set(write[2], write[1]);
      return { exitCode: 0, output: '' };
    }
    return { exitCode: 0, output: '' };
  }

  async *logs(id: string, options: LogOptions): AsyncIterable<ReplicaLogLine> {
    this.up('logs');
    const c = this.mine(id);
    if (!c) return;
    const since = options.sinceMs ?? 0;
    const past = c.logs.filter((l) => l.timeMs >= since);
    yield* options.sinceMs ? past : past.slice(Math.max(0, past.length - options.tail));
    if (!options.follow || c.state.phase !== 'running') return;
    const queue: (ReplicaLogLine | null)[] = [];
    let wake: (() => void) | undefined;
    const push = (l: ReplicaLogLine | null) => (queue.push(l), wake?.());
    c.followers.add(push);
    const onAbort = () => push(null);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((r) => (wake = r));
        const next = queue.shift()!;
        if (next === null) return;
        yield next;
      }
    } finally {
      c.followers.delete(push);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async usage(id: string): Promise<ReplicaUsage | undefined> {
    this.up('usage');
    const c = this.mine(id);
    return c && c.state.phase === 'running' ? { cpuMillis: 1, memoryBytes: 1 << 20, memoryLimitBytes: c.spec.memoryMib * 1024 * 1024 } : undefined;
  }

  watch(onEvent: (event: ReplicaEvent) => void): () => void {
    const listener = (e: ReplicaEvent & { dataCenter: string }) => {
      if (e.dataCenter === this.dataCenter) onEvent({ kind: e.kind, id: e.id, labels: e.labels });
    };
    this.runtime.listeners.add(listener);
    return () => this.runtime.listeners.delete(listener);
  }
}
