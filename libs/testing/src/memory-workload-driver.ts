import {
  matchesSelector,
  ReplicaCreateError,
  type ExecResult,
  type ReplicaEvent,
  type ReplicaLogLine,
  type ReplicaSelector,
  type ReplicaState,
  type RuntimeDriver,
  type WorkloadSpec,
} from '@wharf/runtime';

/** How pods of a fake image behave: ready after readyAfterMs, or failing with the runtime's reason. */
export interface FakeWorkloadImage {
  readyAfterMs?: number;
  /** e.g. "CrashLoopBackOff: exited with code 3": its pods never turn ready. */
  failWith?: string;
}

interface FakePod {
  state: ReplicaState;
  readyTimer?: NodeJS.Timeout;
  /** Going: still routed to (ready) until this timer, then gone. */
  drainTimer?: NodeJS.Timeout;
}

/**
 * An in-memory runtime that rolls out itself (capabilities rollout = 'runtime', as Kubernetes):
 * applyWorkload keeps the workload and replaces its pods at once by pods of the new template,
 * which turn ready after a while or fail as their image says; paused holds the pods as they are.
 * For unit tests of app-manager's runtime-rollout path; the real thing is KubernetesDriver.
 */
export class MemoryWorkloadDriver implements RuntimeDriver {
  readonly kind = 'memory-workload';
  readonly capabilities = { probes: 'runtime', rollout: 'runtime' } as const;
  readonly images = new Map<string, FakeWorkloadImage>();
  readonly workloads = new Map<string, WorkloadSpec>();
  readonly applied: WorkloadSpec[] = [];
  readonly removedWorkloads: string[] = [];
  /**
   * A pod being removed stays listed this long as 'removing' and still ready before it goes: as on
   * Kubernetes, where its Service's EndpointSlices keep routing to a deleted pod for a moment. 0: gone at once.
   */
  drainMs = 0;
  private readonly pods = new Map<string, FakePod>();
  private readonly listeners = new Set<(e: ReplicaEvent) => void>();
  private seq = 0;

  constructor(readonly dataCenter: string) {}

  async ping(): Promise<void> {}

  async applyWorkload(w: WorkloadSpec): Promise<void> {
    const image = this.images.get(w.template.image);
    if (!image) throw new ReplicaCreateError('image_missing', `image ${w.template.image} is not known to the fake runtime`);
    const id = w.template.labels.componentId;
    this.applied.push(w);
    this.workloads.set(id, w);
    if (w.paused) return;
    const mine = [...this.pods.values()].filter((p) => p.state.labels.componentId === id && !p.drainTimer);
    for (const p of mine) if (p.state.labels.template !== w.template.labels.template) this.drop(p);
    const current = mine.filter((p) => p.state.labels.template === w.template.labels.template && this.pods.has(p.state.id));
    for (const p of current.slice(w.replicas)) this.drop(p);
    for (let i = current.length; i < w.replicas; i++) this.add(w, image);
  }

  async removeWorkload(ref: { tenantId: string; componentId: string }): Promise<void> {
    this.removedWorkloads.push(ref.componentId);
    this.workloads.delete(ref.componentId);
    for (const p of [...this.pods.values()]) if (p.state.labels.componentId === ref.componentId) this.drop(p);
  }

  private add(w: WorkloadSpec, image: FakeWorkloadImage): void {
    const id = `pod-${++this.seq}`;
    const state: ReplicaState = {
      id,
      name: `${w.template.names.component}-${this.seq}`,
      labels: { ...w.template.labels, slot: 0, restarts: 0 },
      phase: 'running',
      ready: false,
      ...(image.failWith ? { error: image.failWith } : {}),
      startedAtMs: Date.now(),
      address: `10.244.0.${this.seq % 250}`,
      node: 'fake-node',
      hostPorts: [],
    };
    const pod: FakePod = { state };
    this.pods.set(id, pod);
    this.emit('created', state);
    if (!image.failWith)
      pod.readyTimer = setTimeout(() => {
        state.ready = true;
        this.emit('changed', state);
      }, image.readyAfterMs ?? 10);
  }

  private drop(p: FakePod): void {
    clearTimeout(p.readyTimer);
    if (this.drainMs > 0 && !p.drainTimer) {
      p.state.phase = 'removing';
      this.emit('changed', p.state);
      p.drainTimer = setTimeout(() => this.gone(p), this.drainMs);
      return;
    }
    if (!p.drainTimer) this.gone(p);
  }

  private gone(p: FakePod): void {
    clearTimeout(p.drainTimer);
    this.pods.delete(p.state.id);
    this.emit('removed', p.state);
  }

  private emit(kind: ReplicaEvent['kind'], s: ReplicaState): void {
    for (const l of this.listeners) l({ kind, id: s.id, labels: s.labels });
  }

  async listReplicas(selector: ReplicaSelector = {}): Promise<ReplicaState[]> {
    return [...this.pods.values()].map((p) => ({ ...p.state })).filter((s) => matchesSelector(s.labels, this.dataCenter, selector));
  }

  async inspectReplica(id: string): Promise<ReplicaState | undefined> {
    const p = this.pods.get(id);
    return p ? { ...p.state } : undefined;
  }

  async createReplica(): Promise<ReplicaState> {
    throw new ReplicaCreateError('invalid_spec', 'this runtime rolls out whole workloads (applyWorkload)');
  }

  async removeReplica(id: string): Promise<void> {
    const p = this.pods.get(id);
    if (p) this.drop(p);
  }

  async removeVolumes(): Promise<string[]> {
    return [];
  }

  async releaseTenant(tenantId: string): Promise<boolean> {
    return ![...this.workloads.values()].some((w) => w.template.labels.tenantId === tenantId);
  }

  async exec(): Promise<ExecResult> {
    return { exitCode: 0, output: '' };
  }

  async *logs(): AsyncIterable<ReplicaLogLine> {}

  async usage(): Promise<undefined> {
    return undefined;
  }

  watch(onEvent: (event: ReplicaEvent) => void): () => void {
    this.listeners.add(onEvent);
    return () => this.listeners.delete(onEvent);
  }

  /** Stops every timer (end of a test). */
  close(): void {
    for (const p of this.pods.values()) {
      clearTimeout(p.readyTimer);
      clearTimeout(p.drainTimer);
    }
  }
}
