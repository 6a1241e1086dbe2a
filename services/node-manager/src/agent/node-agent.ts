import { create } from '@bufbuild/protobuf';
import { nodeV1 } from '@wharf/contracts';
import type { Logger } from '@wharf/logging';
import type { NodeDirectory, NodeRecord } from '@wharf/nodes';
import type { Clock } from '@wharf/system';
import type { HeartbeatLease } from '../adapters/heartbeat.adapter';
import type { Machine, MachineReading } from '../adapters/machine.adapter';
import { nextAutomaticMove, type MovePolicy } from '../domain/automatic-moves';
import { nextConditions, observe, type Condition, type Sample, type Thresholds } from '../domain/conditions';
import { cpuMillisUsed } from '../domain/usage';

export interface NodeIdentity {
  nodeId: string;
  address: string;
  roles: string[];
  labels: Record<string, string>;
  runtime: string;
}

/** The node's container runtime as its health checks see it: the Docker Engine, or the node's kubelet (Kubernetes). */
export interface RuntimeHealth {
  /** What answers, for messages: "Docker Engine at /var/run/docker.sock". */
  readonly description: string;
  /** Where the reference clock comes from: "the Docker Engine's clock". */
  readonly clockReference: string;
  /** A line saying it answers; throws saying why not. */
  ping(): Promise<string>;
  /** Local clock minus the reference clock, ms. */
  skewMs(now: () => number): Promise<number>;
}

export interface AgentSettings {
  reportMs: number;
  thresholds: Thresholds;
  policy: MovePolicy;
}

/**
 * One node's own loop: registers it (once: a restarted node-manager finds its stream and keeps
 * its state), then every reportMs samples the machine, folds the health conditions, renews the
 * heartbeat's value and makes the automatic move the policy asks for (init, online, fail, ...).
 */
export class NodeAgent {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private lastCpu?: MachineReading['cpu'];
  private readonly startedMs: number;
  conditions: Condition[] = [];
  record?: NodeRecord;
  heartbeat?: nodeV1.NodeHeartbeat;
  registered = false;
  /** Set when the first round has been reported (the key exists). */
  reported = false;

  constructor(
    private readonly node: NodeIdentity,
    private readonly directory: NodeDirectory,
    private readonly lease: HeartbeatLease,
    private readonly machine: Machine,
    private readonly runtime: RuntimeHealth,
    private readonly etcdPing: () => Promise<void>,
    private readonly settings: AgentSettings,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.startedMs = clock.now();
  }

  /** Heartbeat first, then registration: the lease watcher never sees a registered node without a key. */
  async start(): Promise<void> {
    await this.lease.start();
    await this.round();
    const created = await this.directory.register(
      { nodeId: this.node.nodeId, address: this.node.address, roles: this.node.roles, labels: this.node.labels },
      'service:node-manager',
    );
    this.registered = true;
    this.record = await this.directory.record(this.node.nodeId);
    this.logger.info({ node: this.node.nodeId, state: this.record?.state, created }, created ? 'node registered' : 'node found: its state is kept');
    await this.round();
    this.timer = setInterval(() => void this.tick(), this.settings.reportMs);
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = this.round().finally(() => (this.running = undefined));
    await this.running;
  }

  /** One report: sample, conditions, heartbeat, and the automatic move if any. */
  async round(): Promise<void> {
    const reading = await this.machine.read();
    const sample = await this.sample(reading);
    this.conditions = nextConditions(this.conditions, observe(sample, this.settings.thresholds), this.clock.now());
    const cpuUsed = cpuMillisUsed(this.lastCpu, reading.cpu);
    this.lastCpu = reading.cpu;
    const disk =
      'error' in reading.disk ? { total: 0, used: 0 } : { total: reading.disk.totalBytes, used: reading.disk.totalBytes - reading.disk.availableBytes };
    this.heartbeat = create(nodeV1.NodeHeartbeatSchema, {
      nodeId: this.node.nodeId,
      address: this.node.address,
      runtime: this.node.runtime,
      timeMs: BigInt(this.clock.now()),
      startedMs: BigInt(this.startedMs),
      capacity: { cpuMillis: BigInt(reading.cpu.cores * 1000), memoryBytes: BigInt(reading.memory.totalBytes), diskBytes: BigInt(disk.total) },
      usage: {
        cpuMillis: BigInt(cpuUsed),
        memoryBytes: BigInt(reading.memory.totalBytes - reading.memory.availableBytes),
        diskBytes: BigInt(Math.max(0, disk.used)),
      },
      conditions: this.conditions.map((c) => ({ type: c.type, ok: c.ok, message: c.message, lastChangeMs: BigInt(c.lastChangeMs), streak: c.streak })),
      leaseTtlS: this.lease.ttlS,
    });
    if (await this.lease.put(this.heartbeat)) this.reported = true;
    if (!this.registered) return;
    try {
      await this.moveIfNeeded();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'reading or moving the node failed; next round tries again');
    }
  }

  private async moveIfNeeded(): Promise<void> {
    let record = await this.directory.record(this.node.nodeId);
    // Two moves at most per round (e.g. fail then ERROR on Docker; init then online).
    for (let i = 0; record && i < 2; i++) {
      const move = nextAutomaticMove(record, this.conditions, this.settings.policy);
      if (!move) break;
      const next = await this.directory.change(this.node.nodeId, move.action, { reason: move.reason, actor: 'service:node-manager', ifAllowed: true });
      if (!next) break;
      this.logger.info({ node: this.node.nodeId, action: move.action, from: record.state, to: next.state, reason: move.reason }, 'node state changed');
      record = next;
    }
    this.record = record;
  }

  private async sample(reading: MachineReading): Promise<Sample> {
    const [runtime, etcd, skew] = await Promise.all([
      this.runtime
        .ping()
        .then((r): Sample['runtime'] => ({ ok: true, detail: `${this.runtime.description}: ${r}` }))
        .catch((err: Error): Sample['runtime'] => ({ ok: false, error: `${this.runtime.description}: ${err.message}` })),
      this.etcdPing()
        .then((): Sample['etcd'] => ({ ok: true }))
        .catch((err: Error): Sample['etcd'] => ({ ok: false, error: `etcd: ${err.message}` })),
      this.runtime
        .skewMs(() => this.clock.now())
        .then((ms): Sample['skew'] => ({ ms, reference: this.runtime.clockReference }))
        .catch((err: Error): Sample['skew'] => ({ error: `${this.runtime.clockReference}: ${err.message}` })),
    ]);
    return { runtime, etcd, skew, memory: reading.memory, disk: reading.disk };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    this.lease.stop();
  }
}
