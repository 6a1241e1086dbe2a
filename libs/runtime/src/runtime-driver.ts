/**
 * The RuntimeDriver port: how app-manager (and event-log's log collector) reach the engine
 * that runs replicas. One interface for the embedded Docker Engine and for Kubernetes:
 *
 *  - Replicas are found by labels only (data center, tenant, app, component, version, slot,
 *    template), never by a driver's own bookkeeping, so the actual state can always be listed
 *    again from the runtime after a crash of app-manager.
 *  - A replica is created from a complete ReplicaSpec (image, env with secrets already opened,
 *    limits, ports, volumes, network aliases): the driver decides nothing about what to run.
 *  - Every state the runtime reports comes with its reason (exit code, OOM, image missing,
 *    the runtime's own message), so a status never says a bare "abnormal".
 *
 * Docker runs health probes in app-manager (capabilities.probes = 'manager'); Kubernetes runs
 * them in the kubelet and reports readiness on the replica ('runtime'). Docker rolls replicas
 * out one by one as app-manager's plan says (rollout = 'manager'); a Kubernetes driver may
 * instead take a whole workload and let its Deployment roll (rollout = 'runtime', applyWorkload).
 */
export interface RuntimeDriver {
  /** "docker", "kubernetes", "memory". */
  readonly kind: string;
  readonly capabilities: RuntimeCapabilities;
  /** The data center this driver acts for: it lists, changes and removes only what carries this label. */
  readonly dataCenter: string;

  /** Answers when the runtime does; throws UnavailableError naming it otherwise. */
  ping(): Promise<void>;
  /** This data center's replicas whose labels match every given one (all of them for {}). */
  listReplicas(selector?: ReplicaSelector): Promise<ReplicaState[]>;
  /** One replica by id, or undefined if it does not exist (any more). */
  inspectReplica(id: string): Promise<ReplicaState | undefined>;
  /**
   * Creates and starts a replica (pulling its image when allowed, creating the tenant's network
   * when missing). Idempotent by (component, slot, template): if that replica exists already
   * it is started if needed and returned. Throws ReplicaCreateError with a reason.
   */
  createReplica(spec: ReplicaSpec, options?: CreateOptions): Promise<ReplicaState>;
  /** Stops it (SIGTERM, then SIGKILL after graceMs) and removes it; a missing replica is not an error. */
  removeReplica(id: string, options?: { graceMs?: number }): Promise<void>;
  /** Removes this data center's volumes matching the selector (a deleted component's); returns their names. */
  removeVolumes(selector: ReplicaSelector): Promise<string[]>;
  /**
   * The tenant has no component left on this runtime: remove what the driver made for it (Docker:
   * its network; Kubernetes: its namespace and policies), unless a replica still uses it. True when
   * nothing of it is left.
   */
  releaseTenant(tenantId: string): Promise<boolean>;
  /** Runs a command inside a replica (command probes). */
  exec(id: string, command: string[], options: { timeoutMs: number }): Promise<ExecResult>;
  /** stdout/stderr of a replica: the last `tail` lines, then (follow) new ones until the signal aborts or the replica goes. */
  logs(id: string, options: LogOptions): AsyncIterable<ReplicaLogLine>;
  /** A one-shot reading of cpu and memory use; undefined when the replica is not running. */
  usage(id: string): Promise<ReplicaUsage | undefined>;
  /**
   * Tells about replica changes of this data center as they happen (created, started, died,
   * removed, ...), so callers react without polling. The stream restarts itself after the runtime
   * comes back; onError says it was lost meanwhile (callers list again). Returns stop().
   */
  watch(onEvent: (event: ReplicaEvent) => void, onError?: (err: Error) => void): () => void;
  /** Drivers with capabilities.rollout = 'runtime' only: hand the whole workload to the runtime. */
  applyWorkload?(workload: WorkloadSpec): Promise<void>;
  /**
   * Drivers with capabilities.rollout = 'runtime' only: remove a component's workload and what
   * belongs to it (its service, env secret, disruption budget); its volumes stay until removeVolumes.
   * A missing workload is not an error.
   */
  removeWorkload?(ref: { tenantId: string; componentId: string }): Promise<void>;
}

export interface RuntimeCapabilities {
  /** Who runs health probes: app-manager ('manager') or the runtime, which then sets ReplicaState.ready. */
  probes: 'manager' | 'runtime';
  /** Who replaces replicas during a rollout: app-manager's plan ('manager') or the runtime (applyWorkload). */
  rollout: 'manager' | 'runtime';
}

/** Labels every replica carries (Docker labels, Kubernetes labels): the only way replicas are found. */
export interface ReplicaLabels {
  dataCenter: string;
  tenantId: string;
  appId: string;
  componentId: string;
  versionId: string;
  /** Replica number within the component: stable for stateful components, the lowest free one otherwise. */
  slot: number;
  /** Hash of everything that makes the replica what it is (image, env, limits, ports, generation). */
  template: string;
  /** Times the slot was replaced after a crash (carried over to the replacement). */
  restarts: number;
}

/** Matches replicas whose labels equal every given field. */
export type ReplicaSelector = Partial<Pick<ReplicaLabels, 'tenantId' | 'appId' | 'componentId' | 'versionId' | 'slot' | 'template'>>;

export interface EnvEntry {
  name: string;
  value: string;
  /** Opened from its sealed form for this container only: never logged, never a label. */
  secret: boolean;
  /**
   * The value is another component's host on the tenant's network (a dependency's <NAME>_HOST). A
   * runtime with its own service discovery puts that component's address there instead (Kubernetes:
   * its Service's DNS name, or its ClusterIP on a cluster without DNS); Docker uses the value (an alias).
   */
  hostOf?: { componentId: string; app: string; component: string };
}

export interface PortSpec {
  port: number;
  protocol: 'http' | 'tcp';
  /** Publish on 127.0.0.1:hostPort (Docker); 0 or undefined = not published. */
  hostPort?: number;
}

export interface VolumeSpec {
  /** The component's volume name (a DNS label). */
  name: string;
  mountPath: string;
  sizeMib: number;
}

/** Everything a driver needs to run one replica. */
export interface ReplicaSpec {
  labels: ReplicaLabels;
  /** Readable parts of the replica's name: wharf-<tenant>-<app>-<component>-<slot>. */
  names: { tenant: string; app: string; component: string };
  image: string;
  env: EnvEntry[];
  /** cpu limit in millicores (1000 = one core); 0 = none. */
  cpuMillis: number;
  /** memory limit in MiB (no swap beyond it); 0 = none. */
  memoryMib: number;
  ports: PortSpec[];
  /** Volumes: one per replica (slot), kept across restarts and upgrades; removed only by removeVolumes. */
  volumes: VolumeSpec[];
  /** DNS names the replica answers to on its tenant's network, e.g. ["api.shop"]. */
  aliases: string[];
  /** Time between SIGTERM and SIGKILL when it is stopped. */
  stopGraceMs: number;
}

export interface CreateOptions {
  signal?: AbortSignal;
  /** Progress of slow steps (image pull), one human line each. */
  onProgress?: (line: string) => void;
}

/**
 * Where a replica is in its life, as the runtime says:
 *   creating  created, not started yet        running   its process runs
 *   exited    its process ended (exitCode)    dead      the runtime gave up on it
 *   removing  being removed                   paused    frozen by someone
 */
export type ReplicaPhase = 'creating' | 'running' | 'exited' | 'dead' | 'removing' | 'paused';

export interface ReplicaState {
  /** The runtime's id (container id, pod uid). */
  id: string;
  /** The runtime's name (container or pod name). */
  name: string;
  labels: ReplicaLabels;
  phase: ReplicaPhase;
  /** Runtime-run probes only (capabilities.probes = 'runtime'). */
  ready?: boolean;
  exitCode?: number;
  oomKilled?: boolean;
  /** The runtime's own words when something went wrong (e.g. "port is already allocated"). */
  error?: string;
  startedAtMs?: number;
  finishedAtMs?: number;
  /** Address on the tenant's network ('' when not attached). */
  address: string;
  /** Host the replica runs on. */
  node: string;
  /** Ports published on the host. */
  hostPorts: { port: number; hostPort: number }[];
}

/** Why a replica could not be created: a clear reason for the operation's failure. */
export type CreateFailure = 'image_missing' | 'port_taken' | 'invalid_spec' | 'name_taken' | 'runtime_unavailable' | 'start_failed';

export class ReplicaCreateError extends Error {
  constructor(
    readonly reason: CreateFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ReplicaCreateError';
  }
}

export interface ExecResult {
  exitCode: number;
  /** stdout and stderr, interleaved, cut to a few KiB. */
  output: string;
}

export interface LogOptions {
  /** Last N lines first (0 = none). */
  tail: number;
  follow: boolean;
  /** Only lines at or after this time. */
  sinceMs?: number;
  signal?: AbortSignal;
}

export interface ReplicaLogLine {
  timeMs: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface ReplicaUsage {
  cpuMillis: number;
  memoryBytes: number;
  memoryLimitBytes: number;
}

export type ReplicaEventKind = 'created' | 'started' | 'died' | 'oom' | 'removed' | 'changed';

export interface ReplicaEvent {
  kind: ReplicaEventKind;
  id: string;
  /** Labels when the runtime told them (removal events may carry none). */
  labels?: ReplicaLabels;
}

/** A health check the runtime runs itself (capabilities.probes = 'runtime'). */
export interface WorkloadProbe {
  kind: 'http' | 'tcp' | 'exec';
  /** http only. */
  path: string;
  /** http and tcp. */
  port: number;
  /** exec only: argv, no shell. */
  command: string[];
  initialDelayMs: number;
  periodMs: number;
  /** Failures in a row before the probe counts as failed. */
  failureThreshold: number;
}

/** A whole component for runtimes that roll out themselves (Kubernetes Deployments/StatefulSets). */
export interface WorkloadSpec {
  template: Omit<ReplicaSpec, 'labels'> & { labels: Omit<ReplicaLabels, 'slot' | 'restarts'> };
  replicas: number;
  stateful: boolean;
  maxSurge: number;
  maxUnavailable: number;
  paused: boolean;
  /** Failing: the replica leaves the endpoints. None: ready once it runs. */
  readiness?: WorkloadProbe;
  /** Failing: the replica is restarted. */
  liveness?: WorkloadProbe;
  /** The release's restart generation: a restart raises it, which rolls every replica. */
  generation: number;
  /** A rollout that has made no progress for this long is reported as failed by the runtime. */
  progressDeadlineMs: number;
  /** Node labels every replica's node must carry (Kubernetes: the pods' nodeSelector); none: any node. */
  placement?: Record<string, string>;
}
