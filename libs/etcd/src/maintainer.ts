import type { Etcd3 } from 'etcd3';
import { Counter, Gauge, type Registry } from 'prom-client';
import { alarmName } from './health';
import type { KeyLayout } from './keys';
import {
  afterAction,
  defaultMaintenancePolicy,
  emptyMemory,
  planMaintenance,
  recordSample,
  type MaintenanceAction,
  type MaintenanceMemory,
  type MaintenancePolicy,
  type MemberObservation,
} from './maintenance-policy';

/** What the maintainer does to etcd: the side effects behind the policy's decisions. */
export interface EtcdMaintenanceApi {
  /** Status of every member that answers, the cluster's revision and whether NOSPACE is raised. */
  observe(): Promise<{ revision: bigint; members: MemberObservation[]; nospace: boolean }>;
  /** Resolves also when etcd had already compacted past `revision`. */
  compact(revision: bigint): Promise<void>;
  defragment(endpoint: string): Promise<void>;
  /** Deactivates every NOSPACE alarm. */
  disarmNospace(): Promise<void>;
}

export interface MaintainerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** etcd's own words for a compaction point at or behind the last compaction. */
export const isCompactedError = (err: unknown) => /required revision has been compacted/.test((err as Error)?.message ?? '');

/**
 * The etcd3 client as the maintainer's API. Members are the configured endpoints, each
 * reached through its own client, because status and defragmentation address one member
 * (the shared client would pick any).
 */
export class Etcd3MaintenanceApi implements EtcdMaintenanceApi {
  private readonly perEndpoint = new Map<string, Etcd3>();

  /**
   * @param clientFor opens a client to one endpoint (with the service's own TLS and options);
   *   with a single endpoint the shared client is used.
   */
  constructor(
    private readonly client: Etcd3,
    private readonly endpoints: string[],
    private readonly clientFor: (endpoint: string) => Etcd3,
    private readonly statusTimeoutMs = 5000,
  ) {}

  private member(endpoint: string): Etcd3 {
    if (this.endpoints.length === 1) return this.client;
    let c = this.perEndpoint.get(endpoint);
    if (!c) this.perEndpoint.set(endpoint, (c = this.clientFor(endpoint)));
    return c;
  }

  async observe(): Promise<{ revision: bigint; members: MemberObservation[]; nospace: boolean }> {
    const statuses = await Promise.all(
      this.endpoints.map(async (endpoint) => {
        try {
          const s = await withTimeout(this.member(endpoint).maintenance.status(), this.statusTimeoutMs, `status of ${endpoint}`);
          return { endpoint, s };
        } catch {
          return undefined; // a member that does not answer is left alone this tick
        }
      }),
    );
    const answered = statuses.filter((x): x is NonNullable<typeof x> => x !== undefined);
    if (answered.length === 0) throw new Error(`no etcd member answered (${this.endpoints.join(', ')})`);
    const alarms = await this.client.maintenance.alarm({ action: 'Get' });
    return {
      revision: answered.reduce((max, { s }) => (BigInt(s.header.revision) > max ? BigInt(s.header.revision) : max), 0n),
      members: answered.map(({ endpoint, s }) => ({
        endpoint,
        memberId: s.header.member_id,
        isLeader: s.leader === s.header.member_id,
        dbSizeBytes: Number(s.dbSize),
        dbSizeInUseBytes: Number(s.dbSizeInUse),
      })),
      nospace: (alarms.alarms ?? []).some((a) => alarmName(a.alarm) === 'NOSPACE'),
    };
  }

  async compact(revision: bigint): Promise<void> {
    try {
      await this.client.kv.compact({ revision: String(revision) });
    } catch (err) {
      if (!isCompactedError(err)) throw err;
    }
  }

  async defragment(endpoint: string): Promise<void> {
    await this.member(endpoint).maintenance.defragment();
  }

  async disarmNospace(): Promise<void> {
    const alarms = await this.client.maintenance.alarm({ action: 'Get' });
    for (const a of alarms.alarms ?? []) {
      if (alarmName(a.alarm) === 'NOSPACE') await this.client.maintenance.alarm({ action: 'Deactivate', alarm: 'Nospace', memberID: a.memberID });
    }
  }

  close(): void {
    for (const c of this.perEndpoint.values()) c.close();
    this.perEndpoint.clear();
  }
}

export interface EtcdMaintainerOptions {
  /** The --quota-backend-bytes the members run with (etcd does not report it). */
  quotaBytes: number;
  policy?: MaintenancePolicy;
  /** Time between ticks. Default 10 s. */
  intervalMs?: number;
  logger: MaintainerLogger;
  /** Counters of the actions taken are registered here when given. */
  registry?: Registry;
  now?: () => number;
}

/** Most steps in one tick: a compaction, each member's defragmentation, a disarm, with room to spare. */
const MAX_STEPS_PER_TICK = 16;

/**
 * Keeps etcd within its quota: each tick observes every member, then runs the policy's
 * next step (compact, defragment one member, disarm NOSPACE) and observes again, until the
 * policy has nothing left to do. One tick at a time, so one member at a time.
 */
export class EtcdMaintainer {
  private memory: MaintenanceMemory = emptyMemory();
  private readonly policy: MaintenancePolicy;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastWarning?: string;
  private readonly actions?: Counter<'action'>;

  constructor(
    private readonly api: EtcdMaintenanceApi,
    private readonly options: EtcdMaintainerOptions,
  ) {
    this.policy = options.policy ?? defaultMaintenancePolicy();
    this.intervalMs = options.intervalMs ?? 10_000;
    this.now = options.now ?? Date.now;
    if (options.registry) {
      this.actions = new Counter({
        name: 'wharf_etcd_maintenance_actions_total',
        help: 'etcd maintenance steps taken by this instance (compact, defragment, disarm)',
        labelNames: ['action'],
        registers: [options.registry],
      });
    }
  }

  /** Ticks every intervalMs until stop(); the first tick at once. */
  start(): void {
    if (this.timer) return;
    const run = () => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = undefined));
    };
    this.timer = setInterval(run, this.intervalMs);
    this.timer.unref();
    run();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One round of maintenance; never throws (a failed step is logged and retried next tick). */
  async tick(): Promise<void> {
    try {
      let obs = await this.observe();
      this.memory = recordSample(this.memory, obs.nowMs, obs.revision, this.policy);
      for (let step = 0; step < MAX_STEPS_PER_TICK; step++) {
        const plan = planMaintenance(obs, this.memory, this.policy);
        if (plan.warning && plan.warning !== this.lastWarning) this.options.logger.error({ quota_bytes: this.options.quotaBytes }, plan.warning);
        this.lastWarning = plan.warning;
        if (!plan.action) return;
        await this.act(plan.action);
        obs = await this.observe();
      }
    } catch (err) {
      this.options.logger.warn({ err }, 'etcd maintenance failed; trying again next tick');
    }
  }

  private async observe() {
    const o = await this.api.observe();
    return { ...o, nowMs: this.now(), quotaBytes: this.options.quotaBytes };
  }

  private async act(action: MaintenanceAction): Promise<void> {
    const started = this.now();
    switch (action.kind) {
      case 'compact':
        await this.api.compact(action.revision);
        break;
      case 'defragment':
        await this.api.defragment(action.endpoint);
        break;
      case 'disarm':
        await this.api.disarmNospace();
        break;
    }
    this.memory = afterAction(this.memory, action, this.now());
    this.actions?.inc({ action: action.kind });
    const { kind, reason } = action;
    const detail = kind === 'compact' ? { revision: String(action.revision) } : kind === 'defragment' ? { endpoint: action.endpoint } : {};
    this.options.logger.info({ action: kind, ...detail, reason, ms: this.now() - started }, `etcd ${kind === 'disarm' ? 'NOSPACE alarm disarmed' : kind}`);
  }
}

export interface ElectedMaintainerOptions {
  /** This instance's name in the election (e.g. "mq-<host>-<pid>"). */
  identity: string;
  /** Lease TTL of the campaign: how long a dead leader holds the post. Default 10 s. */
  ttlS?: number;
  /** Wait before campaigning again after a failed campaign. Default 2 s. */
  retryMs?: number;
  logger: MaintainerLogger;
  registry?: Registry;
}

/**
 * Runs the maintainer on one instance among all that run this (every mq instance does):
 * an etcd election (etcd3's Campaign, on a lease) under <root>/maintenance/. While NOSPACE
 * is raised etcd grants no lease, so nobody can be elected: then an instance that finds no
 * leader runs the ticks itself (they are safe to run twice: a second compaction to the same
 * point is a no-op, defragmentations of one member run one after the other).
 */
export class ElectedMaintainer {
  private campaign?: ReturnType<ReturnType<Etcd3['election']>['campaign']>;
  private retry?: NodeJS.Timeout;
  private stopped = false;
  private isLeader = false;
  private rescuing?: Promise<void>;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly maintainer: EtcdMaintainer,
    private readonly options: ElectedMaintainerOptions,
  ) {
    if (options.registry) {
      const self = () => this;
      new Gauge({
        name: 'wharf_etcd_maintenance_leader',
        help: 'Whether this instance is the elected etcd maintainer (1) or not (0)',
        registers: [options.registry],
        collect() {
          this.set(self().isLeader ? 1 : 0);
        },
      });
    }
  }

  get leading(): boolean {
    return this.isLeader;
  }

  private election() {
    return this.client.namespace(this.keys.maintenance.prefix()).election('etcd', this.options.ttlS ?? 10);
  }

  start(): void {
    if (this.stopped || this.campaign) return;
    const campaign = this.election().campaign(this.options.identity);
    this.campaign = campaign;
    campaign.on('elected', () => {
      if (this.campaign !== campaign || this.stopped) return;
      this.isLeader = true;
      this.options.logger.info({ identity: this.options.identity }, 'elected etcd maintainer');
      this.maintainer.start();
    });
    campaign.on('error', (err) => {
      if (this.campaign !== campaign) return; // a later campaign runs already
      this.campaign = undefined;
      const wasLeader = this.isLeader;
      this.isLeader = false;
      void (async () => {
        if (wasLeader) await this.maintainer.stop();
        if (this.stopped) return;
        this.options.logger.warn({ err }, wasLeader ? 'lost the etcd maintainer post; campaigning again' : 'etcd maintainer campaign failed; trying again');
        await this.rescueIfLeaderless();
        if (!this.stopped) this.retry = setTimeout(() => this.start(), this.options.retryMs ?? 2000);
      })();
    });
  }

  /** No leader (e.g. no lease can be granted under NOSPACE): run one tick here. */
  private async rescueIfLeaderless(): Promise<void> {
    if (this.rescuing) return this.rescuing;
    this.rescuing = (async () => {
      try {
        if ((await this.election().leader()) === undefined) await this.maintainer.tick();
      } catch {
        // etcd unreachable: the next campaign tries again
      }
    })().finally(() => (this.rescuing = undefined));
    return this.rescuing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const campaign = this.campaign;
    this.campaign = undefined;
    this.isLeader = false;
    await this.maintainer.stop();
    await this.rescuing;
    // Resigning revokes the lease: another instance takes over at once instead of after the TTL.
    await campaign?.resign().catch(() => undefined);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}
