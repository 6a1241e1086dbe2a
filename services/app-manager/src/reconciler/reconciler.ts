import { create, type Message } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { ConcurrencyError, type EventStore } from '@wharf/event-store';
import type { Logger } from '@wharf/logging';
import {
  lastLines,
  ReplicaCreateError,
  type EnvEntry,
  type ReplicaSpec,
  type ReplicaState,
  type RuntimeDriver,
  type WorkloadProbe,
  type WorkloadSpec,
} from '@wharf/runtime';
import type { SecretBox } from '@wharf/secrets';
import type { Clock } from '@wharf/system';
import type { Narrator } from '../adapters/operation-narrator';
import type { Ownership } from '../adapters/ownership';
import type { ProbeRunner } from '../adapters/probe-runner';
import type { EndpointsView, Publisher } from '../adapters/status-publisher';
import { renderDesired, serviceHost, type DesiredComponent, type ProbeSpec, type RenderSettings, type ReplicaTemplate } from '../domain/desired';
import { wantedReplicas, type ComponentRecord, type Fleet } from '../domain/fleet';
import { plan, type Action, type Backoff, type Health, type ObservedReplica } from '../domain/plan';
import { healthOf, probeReason } from '../domain/probe-state';
import { statusOf, type StatusView } from '../domain/status';
import { planWorkload, type WorkloadAction } from '../domain/workload-plan';

export interface ReconcilerSettings extends RenderSettings {
  dataCenter: string;
  progressDeadlineMs: number;
  /** How long a retired replica stays out of the endpoints before it is stopped. */
  drainMs: number;
  stopGraceMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** A replica ready this long clears its component's back-off. */
  backoffResetMs: number;
  /** Full pass over every component (besides events). */
  resyncMs: number;
  /** Last log lines kept in a crashed replica's reason. */
  crashLines: number;
}

export interface ReconcilerDeps {
  driver: RuntimeDriver;
  fleet: () => Fleet;
  store: Pick<EventStore, 'append'>;
  secrets: SecretBox;
  probes: ProbeRunner;
  narrator: Narrator;
  publisher: Publisher;
  ownership: Ownership;
  clock: Clock;
  logger: Logger;
  settings: ReconcilerSettings;
}

/** What this instance remembers about a component between passes (never needed for correctness after a restart). */
interface Memory {
  /** Creates in flight, by slot. */
  pending: Map<number, ObservedReplica>;
  /** Removals in flight, by replica id. */
  retiring: Set<string>;
  backoff?: Backoff;
  /** Reasons of crashed replicas, read once (exit code, OOM, last lines). */
  crashReasons: Map<string, string>;
  observed: ObservedReplica[];
  details: Map<string, ReplicaState>;
  health: Map<string, Health>;
  /** Operation event ids whose abort / completion is appended or being appended (not folded yet). */
  aborting: Set<string>;
  completing: Set<string>;
  lastWait?: string;
  /** The published endpoints in words, to tell an operation when traffic moves. */
  endpoints?: string;
  state?: string;
  stateSinceMs: number;
  /** The actions of this component that are running (ownership waits for them before letting go). */
  work: Set<Promise<void>>;
  /** Runtime rollout: the workload last applied (what and when), so an unchanged one is not sent every pass. */
  applied?: { key: string; atMs: number };
  applying?: string;
  removingWorkloadAtMs?: number;
}

/** An unchanged workload is applied again after this long anyway (someone may have changed it behind our back). */
const REAPPLY_MS = 60_000;

const ROLLOUT_WORDS: Record<string, string> = {
  retire: 'retiring',
  excess: 'removing',
  crashed: 'replacing',
  failed: 'replacing',
  orphan: 'removing',
  delete: 'removing',
};

/**
 * Keeps the runtime equal to the desired state: for each component this instance owns, it
 * lists the replicas (by labels), renders the desired state, asks plan() what to do and does it,
 * then publishes the status and the ready endpoints. It runs on every event of the component
 * (fold, runtime, probes), after each of its own actions, and every resyncMs for all of them;
 * passes over one component never overlap. The narration of operations comes from here: what
 * a pass does and what changes, as lines under the operation's event id.
 */
export class Reconciler {
  private readonly memory = new Map<string, Memory>();
  /** Operations this process told event-log the end of. */
  private readonly reported = new Set<string>();
  private readonly passes = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; dueMs: number }>();
  private resync?: NodeJS.Timeout;
  private stopWatch?: () => void;
  private stopped = false;

  constructor(private readonly d: ReconcilerDeps) {}

  start(): void {
    this.stopWatch = this.d.driver.watch(
      (e) => e.labels && this.nudge(e.labels.componentId),
      (err) => this.d.logger.warn({ err: err.message }, 'runtime event stream lost; relying on resync'),
    );
    this.resync = setInterval(() => void this.sweep(), this.d.settings.resyncMs);
    this.resync.unref();
    void this.sweep();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopWatch?.();
    clearInterval(this.resync);
    for (const t of this.timers.values()) clearTimeout(t.timer);
    await Promise.allSettled([...this.passes.values()]);
    await Promise.allSettled([...this.memory.values()].flatMap((m) => [...m.work]));
  }

  /**
   * Every component this instance should look at: with replicas in the runtime (orphans too), or
   * wanting some, or with an operation. One listing of the runtime for all; a component that wants
   * nothing, has nothing and was looked at before costs nothing.
   */
  async sweep(): Promise<void> {
    if (this.stopped) return;
    let listed: ReplicaState[];
    try {
      listed = await this.d.driver.listReplicas();
    } catch (err) {
      this.d.logger.warn({ err: (err as Error).message }, 'cannot list replicas; next resync retries');
      return;
    }
    const ids = new Set(listed.map((r) => r.labels.componentId));
    for (const [id, r] of this.d.fleet().components) {
      const idle = wantedReplicas(r) === 0 && !r.operation && r.unreported.size === 0 && this.memory.has(id);
      if (!idle) ids.add(id);
    }
    for (const id of ids) this.nudge(id);
  }

  /** Schedules a pass over a component (coalesced with one already running). */
  nudge(componentId: string): void {
    if (this.stopped || !this.d.ownership.owns(componentId)) return;
    if (this.passes.has(componentId)) {
      this.again.add(componentId);
      return;
    }
    const run = (async () => {
      do {
        this.again.delete(componentId);
        try {
          await this.pass(componentId);
        } catch (err) {
          this.d.logger.warn({ component: componentId, err: (err as Error).message }, 'reconcile pass failed; retrying soon');
          this.later(componentId, 1000);
        }
      } while (this.again.has(componentId) && !this.stopped);
    })().finally(() => this.passes.delete(componentId));
    this.passes.set(componentId, run);
  }

  /** A slot was given up: wait for the actions running on its components, forget them. */
  async release(slot: number): Promise<void> {
    const mine = [...this.memory.entries()].filter(([id]) => this.d.ownership.slotOf(id) === slot);
    await Promise.allSettled(mine.flatMap(([id, m]) => [...(this.passes.has(id) ? [this.passes.get(id)!] : []), ...m.work]));
    for (const [id] of mine) {
      this.memory.delete(id);
      this.d.probes.retain(id, new Set());
    }
  }

  /** The component's status as last seen here (for the gRPC API), or undefined. */
  lastStatus(componentId: string): { status: StatusView; changedAtMs: number; replicas: ReplicaState[] } | undefined {
    const m = this.memory.get(componentId);
    const record = this.d.fleet().get(componentId);
    if (!m) return undefined;
    const desired = record ? renderDesired(record, this.d.fleet(), this.d.settings) : undefined;
    return { status: this.status(record, desired, m), changedAtMs: m.stateSinceMs, replicas: [...m.details.values()] };
  }

  /** A pass in `ms` (the earliest of the asked ones wins). */
  private later(componentId: string, ms: number): void {
    if (this.stopped) return;
    const dueMs = this.d.clock.now() + ms;
    const existing = this.timers.get(componentId);
    if (existing && existing.dueMs <= dueMs) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(componentId);
      this.nudge(componentId);
    }, ms);
    timer.unref();
    this.timers.set(componentId, { timer, dueMs });
  }

  private mem(componentId: string): Memory {
    let m = this.memory.get(componentId);
    if (!m) {
      m = {
        pending: new Map(),
        retiring: new Set(),
        crashReasons: new Map(),
        observed: [],
        details: new Map(),
        health: new Map(),
        aborting: new Set(),
        completing: new Set(),
        stateSinceMs: this.d.clock.now(),
        work: new Set(),
      };
      this.memory.set(componentId, m);
    }
    return m;
  }

  private async pass(componentId: string): Promise<void> {
    if (!this.d.ownership.owns(componentId)) return;
    const fleet = this.d.fleet();
    const record = fleet.get(componentId);
    const desired = record ? renderDesired(record, fleet, this.d.settings) : undefined;
    const m = this.mem(componentId);
    const op = desired?.operation;
    for (const id of m.completing) if (id !== op?.eventId) m.completing.delete(id);
    for (const id of m.aborting) if (id !== op?.eventId || op.aborting) m.aborting.delete(id);
    if (op && record && !m.completing.has(op.eventId)) this.d.narrator.begin({ ...op, componentId, tenantId: record.tenantId }, prepareLines(record, desired));

    // Applied operations event-log has not heard the end of (their reporter died): tell it now.
    for (const [eventId, u] of record?.unreported ?? []) {
      if (this.reported.has(eventId)) continue;
      this.reported.add(eventId);
      this.d.narrator.conclude({ eventId, kind: u.kind, componentId, tenantId: record!.tenantId }, u.succeeded, u.message);
    }

    const listed = await this.d.driver.listReplicas({ componentId });
    const now = this.d.clock.now();
    m.details = new Map(listed.map((r) => [r.id, r]));
    const templates = new Map<string, ReplicaTemplate>();
    for (const t of [desired?.template, desired?.previous]) if (t) templates.set(t.hash, t);
    const observed: ObservedReplica[] = [];
    for (const r of listed) {
      const template = templates.get(r.labels.template) ?? desired?.template;
      if (r.phase === 'running' && this.d.driver.capabilities.probes === 'manager')
        this.d.probes.track({ id: r.id, componentId, address: r.address, startedAtMs: r.startedAtMs ?? now, probe: template?.probe ?? defaultProbe });
      observed.push(await this.observe(r, m, template));
    }
    this.d.probes.retain(componentId, new Set(listed.filter((r) => r.phase === 'running').map((r) => r.id)));
    for (const [slot, p] of m.pending) if (!listed.some((r) => r.labels.slot === slot && r.labels.template === p.template)) observed.push(p);
    for (const id of m.crashReasons.keys()) if (!m.details.has(id)) m.crashReasons.delete(id);
    this.narrateChanges(op?.eventId, m, observed);
    m.observed = observed;

    // A replica of the current release that stays ready long enough clears the back-off.
    if (
      m.backoff &&
      observed.some((r) => r.template === desired?.template?.hash && r.readySinceMs !== undefined && now - r.readySinceMs >= this.d.settings.backoffResetMs)
    )
      m.backoff = undefined;

    // A container created but never started (the runtime went away between the two calls):
    // of the current release it is started by creating it again (idempotent); else it goes.
    for (const r of observed) {
      if (this.d.driver.capabilities.rollout === 'runtime') break; // the runtime's controllers start what they made
      if (r.phase !== 'creating' || m.pending.has(r.slot)) continue;
      if (desired?.template && r.template === desired.template.hash) {
        this.execute(
          { kind: 'create', slot: r.slot, restarts: r.restarts, why: `replica ${r.slot} (interrupted, starting it)` },
          componentId,
          record,
          desired,
          m,
        );
        r.phase = 'pending';
      } else r.health = 'unready';
    }

    const input = { nowMs: now, desired, replicas: observed, backoff: m.backoff, progressDeadlineMs: this.d.settings.progressDeadlineMs };
    if (this.d.driver.capabilities.rollout === 'runtime') for (const a of planWorkload(input)) this.executeWorkload(a, componentId, record, desired, m, listed);
    else for (const a of plan(input)) this.execute(a, componentId, record, desired, m);
    if (m.backoff && now < m.backoff.retryAtMs) this.later(componentId, m.backoff.retryAtMs - now + 10);
    if (op && this.d.settings.progressDeadlineMs > 0) this.later(componentId, Math.max(1000, op.sinceMs + this.d.settings.progressDeadlineMs - now + 10));

    await this.publish(componentId, record, desired, m);
  }

  private async observe(r: ReplicaState, m: Memory, template: ReplicaTemplate | undefined): Promise<ObservedReplica> {
    const probe = template?.probe;
    let health: Health = 'starting';
    let reason: string | undefined;
    let readySinceMs: number | undefined;
    if ((r.phase === 'creating' || r.phase === 'removing') && r.error && this.d.driver.capabilities.probes === 'runtime') {
      health = 'failed';
      reason = r.error;
    } else if (r.phase === 'removing' && r.ready && this.d.driver.capabilities.probes === 'runtime') {
      // Being deleted, and the runtime still sends it traffic (Kubernetes: its Service's
      // EndpointSlices still list it ready): not published, but a rollout is not in place yet.
      health = 'ready';
    } else if (r.phase === 'exited' || r.phase === 'dead') {
      reason = m.crashReasons.get(r.id);
      if (reason === undefined) {
        reason = await this.crashReason(r, template?.memoryMib);
        m.crashReasons.set(r.id, reason);
      }
    } else if (r.phase === 'running') {
      if (this.d.driver.capabilities.probes === 'runtime') {
        // The runtime's own words (crash loop, OOM, image, scheduling) make a replica failed.
        health = r.ready ? 'ready' : r.error ? 'failed' : 'starting';
        reason = r.error;
      } else {
        const s = this.d.probes.state(r.id);
        health = healthOf(s);
        readySinceMs = s?.readySinceMs;
        if (s && probe) reason = probeReason(s, probe);
        if (health === 'failed' && s)
          reason = `${s.everReady ? 'probe kept failing after it had passed' : 'probe never passed'}: ${s.lastOutput || 'no output'}`;
      }
    }
    return {
      id: r.id,
      name: r.name,
      slot: r.labels.slot,
      template: r.labels.template,
      versionId: r.labels.versionId,
      restarts: r.labels.restarts,
      phase: r.phase,
      health,
      retiring: m.retiring.has(r.id),
      reason,
      hostPorts: r.hostPorts.map((p) => p.hostPort),
      readySinceMs,
    };
  }

  /** Exit code or OOM, with the replica's last lines: why it is not running. */
  private async crashReason(r: ReplicaState, memoryMib: number | undefined): Promise<string> {
    const lines = await lastLines(this.d.driver, r.id, this.d.settings.crashLines);
    const what = r.oomKilled
      ? `OOM killed (it used more memory than its limit${memoryMib ? ` of ${memoryMib} MiB` : ''})`
      : `exited with code ${r.exitCode ?? 'unknown'}${r.error ? ` (${r.error})` : ''}`;
    return lines ? `${what}; last lines: ${lines.replace(/\n/g, ' | ')}` : what;
  }

  private narrateChanges(eventId: string | undefined, m: Memory, observed: ObservedReplica[]): void {
    const next = new Map<string, Health>();
    for (const r of observed) {
      if (r.phase === 'pending') continue;
      const h: Health = r.phase === 'exited' || r.phase === 'dead' ? 'failed' : r.health;
      next.set(r.id, h);
      const before = m.health.get(r.id);
      if (!eventId || before === h || r.retiring) continue;
      if (h === 'ready') this.d.narrator.line(eventId, `${r.name} (${r.versionId}) is ready: its probe passed`);
      else if (h === 'unready') this.d.narrator.line(eventId, `${r.name} (${r.versionId}) is unready: ${r.reason ?? ''}`, 'warn');
      else if (h === 'failed') this.d.narrator.line(eventId, `${r.name} (${r.versionId}) failed: ${r.reason ?? ''}`, 'warn');
      else if (h === 'starting' && before === undefined) this.d.narrator.line(eventId, `${r.name} (${r.versionId}) started; waiting for its probe`);
    }
    m.health = next;
  }

  private execute(a: Action, componentId: string, record: ComponentRecord | undefined, desired: DesiredComponent | undefined, m: Memory): void {
    const eventId = desired?.operation?.eventId;
    const say = (text: string, level: 'info' | 'warn' = 'info') => eventId && this.d.narrator.line(eventId, text, level);
    switch (a.kind) {
      case 'create': {
        const t = desired!.template!;
        const placeholder: ObservedReplica = {
          id: `pending-${a.slot}`,
          name: `${desired!.names.component}-${a.slot}`,
          slot: a.slot,
          template: t.hash,
          versionId: t.versionId,
          restarts: a.restarts,
          phase: 'pending',
          health: 'starting',
          retiring: false,
          hostPorts: [],
        };
        m.pending.set(a.slot, placeholder);
        say(`creating ${a.why} of ${t.versionId} (${t.image})`);
        this.track(m, componentId, this.create(componentId, desired!, t, a.slot, a.restarts, m, say));
        return;
      }
      case 'remove': {
        const r = a.replica;
        m.retiring.add(r.id);
        if (a.why === 'crashed' || a.why === 'failed') this.fail(m, r.template, r.reason ?? a.why);
        say(
          `${ROLLOUT_WORDS[a.why]} ${r.name} (${r.versionId})${a.why === 'crashed' || a.why === 'failed' ? `: ${r.reason ?? ''}` : ''}`,
          a.why === 'crashed' || a.why === 'failed' ? 'warn' : 'info',
        );
        this.track(m, componentId, this.remove(componentId, record, desired, r, a.drain, m, say));
        return;
      }
      case 'abort': {
        if (m.aborting.has(a.eventId) || !record) return;
        m.aborting.add(a.eventId);
        say(`rollout failed: ${a.reason}; restoring ${record.deployed ? record.deployed.versionId : 'nothing (no version ran before)'}`, 'warn');
        this.track(
          m,
          componentId,
          this.append(record, [create(eventsV1.RolloutAbortedSchema, { componentId, reason: a.reason })], a.eventId, m.aborting).then(() => undefined),
        );
        return;
      }
      case 'complete': {
        if (m.completing.has(a.eventId) || !record) return;
        m.completing.add(a.eventId);
        this.track(
          m,
          componentId,
          (async () => {
            if (a.cleanup) {
              const volumes = await this.d.driver.removeVolumes({ componentId });
              if (volumes.length) say(`removed volumes ${volumes.join(', ')}`);
              await this.d.publisher.remove(componentId);
              const others = [...this.d.fleet().components.values()].some((c) => c.tenantId === record.tenantId && c.id !== componentId && !c.retired);
              if (!others) await this.d.driver.releaseTenant(record.tenantId);
            }
            // The event store first (the truth), then event-log: a crash between the two leaves the
            // operation in the fold's `unreported`, and whichever instance owns it then tells event-log.
            const events: Message[] = [];
            if (a.deployVersionId) events.push(create(eventsV1.VersionDeployedSchema, { componentId, versionId: a.deployVersionId, eventId: a.eventId }));
            events.push(create(eventsV1.OperationAppliedSchema, { eventId: a.eventId, succeeded: a.succeeded, message: a.message }));
            if (await this.append(record, events, a.eventId, m.completing)) {
              if (a.succeeded) m.backoff = undefined;
              this.reported.add(a.eventId);
              this.d.narrator.conclude(
                { eventId: a.eventId, kind: desired?.operation?.kind ?? 'operation', componentId, tenantId: record.tenantId },
                a.succeeded,
                a.message,
              );
            }
          })(),
        );
        return;
      }
      case 'wait': {
        // Said once per reason (a count-down in it does not make it new).
        const key = a.why.replace(/; next try in \d+ s$/, '');
        if (m.lastWait !== key) say(a.why);
        m.lastWait = key;
        return;
      }
    }
  }

  /** A decision of planWorkload (runtime rollouts); abort, complete and wait are the same as plan()'s. */
  private executeWorkload(
    a: WorkloadAction,
    componentId: string,
    record: ComponentRecord | undefined,
    desired: DesiredComponent | undefined,
    m: Memory,
    listed: ReplicaState[],
  ): void {
    const eventId = desired?.operation?.eventId;
    const say = (text: string, level: 'info' | 'warn' = 'info') => eventId && this.d.narrator.line(eventId, text, level);
    switch (a.kind) {
      case 'apply': {
        const t = desired!.template!;
        const key = JSON.stringify([t.hash, a.replicas, a.paused, desired!.maxSurge, desired!.maxUnavailable, desired!.stateful]);
        const now = this.d.clock.now();
        if (m.applying === key || (m.applied?.key === key && now - m.applied.atMs < REAPPLY_MS)) return;
        m.applying = key;
        const first = m.applied?.key !== key;
        this.track(
          m,
          componentId,
          (async () => {
            try {
              await this.d.driver.applyWorkload!(this.workloadSpec(desired!, t, a.replicas, a.paused));
              m.applied = { key, atMs: this.d.clock.now() };
              if (m.backoff?.template === t.hash) m.backoff = undefined;
              if (first)
                say(
                  `applied ${desired!.stateful ? 'StatefulSet' : 'Deployment'} of ${t.versionId} (${t.image}): ${a.replicas} replica(s)${a.paused ? ', paused' : ''}`,
                );
            } catch (err) {
              if (err instanceof ReplicaCreateError) {
                this.fail(m, t.hash, err.message);
                say(`cannot apply the workload of ${t.versionId}: ${err.message}`, 'warn');
              } else {
                say(`runtime unavailable, will retry: ${(err as Error).message}`, 'warn');
                this.later(componentId, 1000);
              }
            } finally {
              m.applying = undefined;
            }
          })(),
        );
        return;
      }
      case 'remove-workload': {
        const tenantId = record?.tenantId ?? listed[0]?.labels.tenantId;
        const now = this.d.clock.now();
        if (!tenantId || (m.removingWorkloadAtMs !== undefined && now - m.removingWorkloadAtMs < 5000)) return;
        m.removingWorkloadAtMs = now;
        m.applied = undefined;
        say(`removing the workload of ${componentId}`);
        this.track(
          m,
          componentId,
          this.d.driver.removeWorkload!({ tenantId, componentId }).then(() => {
            if (listed.length) this.later(componentId, 1000); // its pods terminate: look again
          }),
        );
        return;
      }
      default:
        this.execute(a, componentId, record, desired, m);
    }
  }

  /** The whole component for a runtime that rolls out itself: the template with its secrets opened, its probe as readiness and liveness. */
  private workloadSpec(d: DesiredComponent, t: ReplicaTemplate, replicas: number, paused: boolean): WorkloadSpec {
    const { labels, ...rest } = this.replicaSpec(d, t, 0, 0);
    const { slot: _slot, restarts: _restarts, ...workloadLabels } = labels;
    void _slot;
    void _restarts;
    // One pod template for every replica: no per-replica number.
    const env: EnvEntry[] = rest.env.filter((e) => e.name !== 'WHARF_REPLICA');
    const p = t.probe;
    const readiness: WorkloadProbe | undefined =
      p.kind === 'running'
        ? undefined
        : {
            kind: p.kind === 'command' ? 'exec' : p.kind,
            path: p.path,
            port: p.port,
            command: p.command,
            initialDelayMs: p.initialDelayMs,
            periodMs: p.periodMs,
            failureThreshold: p.failureThreshold,
          };
    return {
      template: { ...rest, env, labels: workloadLabels },
      replicas,
      stateful: d.stateful,
      maxSurge: d.maxSurge,
      maxUnavailable: d.maxUnavailable,
      paused,
      readiness,
      // As app-manager's own probes: failure_threshold failures make it unready, as many again replace it.
      liveness: readiness && { ...readiness, failureThreshold: readiness.failureThreshold * 2 },
      generation: t.generation,
      progressDeadlineMs: Math.max(1000, this.d.settings.progressDeadlineMs),
      placement: t.placement,
    };
  }

  private track(m: Memory, componentId: string, work: Promise<void>): void {
    const p = work
      .catch((err: unknown) => this.d.logger.warn({ component: componentId, err: (err as Error).message }, 'action failed'))
      .finally(() => {
        m.work.delete(p);
        this.nudge(componentId);
      });
    m.work.add(p);
  }

  private fail(m: Memory, template: string, reason: string): void {
    const failures = (m.backoff?.template === template ? m.backoff.failures : 0) + 1;
    const wait = Math.min(this.d.settings.backoffMaxMs, this.d.settings.backoffBaseMs * 2 ** (failures - 1));
    m.backoff = { failures, retryAtMs: this.d.clock.now() + wait, reason, template };
  }

  /** Appends at the version the fold showed; false (and planned again) when someone appended first. */
  private async append(record: ComponentRecord, events: Message[], eventId: string, inFlight: Set<string>): Promise<boolean> {
    try {
      await this.d.store.append(
        `component/${record.id}`,
        events.map((message) => ({ message, eventId, actor: 'service:app-manager' })),
        record.streamVersion,
      );
      return true;
    } catch (err) {
      inFlight.delete(eventId); // planned again once the fold has caught up
      if (!(err instanceof ConcurrencyError)) throw err;
      return false;
    }
  }

  private async create(
    componentId: string,
    desired: DesiredComponent,
    t: ReplicaTemplate,
    slot: number,
    restarts: number,
    m: Memory,
    say: (text: string, level?: 'info' | 'warn') => void,
  ): Promise<void> {
    try {
      const spec = this.replicaSpec(desired, t, slot, restarts);
      // "started; waiting for its probe" is said by the pass that first sees it.
      await this.d.driver.createReplica(spec, { onProgress: (line) => say(line) });
    } catch (err) {
      if (err instanceof ReplicaCreateError) {
        this.fail(m, t.hash, err.message);
        say(`cannot create replica ${slot} of ${t.versionId}: ${err.message}`, 'warn');
      } else {
        // The runtime is away (or a bug): not the release's fault, so no back-off count; a pass follows.
        say(`runtime unavailable, will retry: ${(err as Error).message}`, 'warn');
        this.later(componentId, 1000);
      }
    } finally {
      m.pending.delete(slot);
    }
  }

  private async remove(
    componentId: string,
    record: ComponentRecord | undefined,
    desired: DesiredComponent | undefined,
    r: ObservedReplica,
    drain: boolean,
    m: Memory,
    say: (text: string) => void,
  ): Promise<void> {
    try {
      if (drain) {
        // Out of the endpoints first, and give the gateway time to stop sending before it stops.
        await this.publish(componentId, record, desired, m);
        await new Promise((resolve) => setTimeout(resolve, this.d.settings.drainMs));
      }
      await this.d.driver.removeReplica(r.id, { graceMs: this.d.settings.stopGraceMs });
      this.d.probes.forget(r.id);
      say(`${r.name} removed`);
    } finally {
      m.retiring.delete(r.id);
    }
  }

  private replicaSpec(d: DesiredComponent, t: ReplicaTemplate, slot: number, restarts: number): ReplicaSpec {
    const env = t.env.map((e) => {
      if (!e.secret) return { name: e.name, value: e.value, secret: false, ...(e.hostOf ? { hostOf: e.hostOf } : {}) };
      try {
        return { name: e.name, value: this.d.secrets.open(e.sealed, e.context), secret: true };
      } catch {
        // Never the value, never the key: only which variable.
        throw new ReplicaCreateError('invalid_spec', `secret env ${e.name} cannot be opened with this data center's WHARF_SECRET_KEY`);
      }
    });
    env.push({ name: 'WHARF_REPLICA', value: String(slot), secret: false });
    return {
      labels: {
        dataCenter: this.d.settings.dataCenter,
        tenantId: d.tenantId,
        appId: d.appId,
        componentId: d.componentId,
        versionId: t.versionId,
        slot,
        template: t.hash,
        restarts,
      },
      names: d.names,
      image: t.image,
      env,
      cpuMillis: t.cpuMillis,
      memoryMib: t.memoryMib,
      ports: t.ports,
      volumes: t.volumes,
      aliases: t.aliases,
      stopGraceMs: this.d.settings.stopGraceMs,
    };
  }

  private status(record: ComponentRecord | undefined, desired: DesiredComponent | undefined, m: Memory): StatusView {
    return statusOf(
      record,
      desired,
      m.observed.map((r) => ({ ...r, retiring: m.retiring.has(r.id) })),
      (r) => {
        const d = m.details.get(r.id);
        return { node: d?.node ?? '', address: d?.address ?? '', startedAtMs: d?.startedAtMs, probeOutput: this.d.probes.state(r.id)?.lastOutput };
      },
      m.backoff,
    );
  }

  private async publish(componentId: string, record: ComponentRecord | undefined, desired: DesiredComponent | undefined, m: Memory): Promise<void> {
    const status = this.status(record, desired, m);
    if (status.state !== m.state) {
      m.state = status.state;
      m.stateSinceMs = this.d.clock.now();
    }
    // A deleted component's keys are removed with its clean-up; nothing is published for it.
    if ((status.state === 'deleted' && !desired?.operation) || !record) return;
    await this.d.publisher.status(status, m.stateSinceMs);
    if (!desired || desired.retired) return;
    const endpoints: EndpointsView = {
      componentId,
      tenantId: record.tenantId,
      appId: record.appId,
      host: serviceHost(desired.names),
      ports: (desired.template?.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol })),
      endpoints: m.observed
        .filter((r) => r.phase === 'running' && r.health === 'ready' && !m.retiring.has(r.id) && m.details.get(r.id)?.address)
        .map((r) => ({ replica: r.name, address: m.details.get(r.id)!.address, versionId: r.versionId })),
    };
    await this.d.publisher.endpoints(endpoints);
    const eventId = desired.operation?.eventId;
    const summary = endpointSummary(endpoints);
    if (eventId && m.endpoints !== undefined && m.endpoints !== summary) this.d.narrator.line(eventId, `switching: the endpoints are now ${summary}`);
    m.endpoints = summary;
  }
}

/** "3 ready (v2 x2, v1 x1)" */
function endpointSummary(e: EndpointsView): string {
  const by = new Map<string, number>();
  for (const x of e.endpoints) by.set(x.versionId, (by.get(x.versionId) ?? 0) + 1);
  const parts = [...by].map(([v, n]) => `${v} x${n}`).join(', ');
  return `${e.endpoints.length} ready${parts ? ` (${parts})` : ''}`;
}

const defaultProbe: ProbeSpec = { kind: 'running', path: '', port: 0, command: [], initialDelayMs: 0, periodMs: 10_000, failureThreshold: 3 };

function prepareLines(r: ComponentRecord, d: DesiredComponent | undefined): string[] {
  const op = d?.operation;
  if (!op || !d) return [];
  const t = d.template;
  const lines = [`${op.kind} of ${r.id} accepted by app-manager`];
  if (t) {
    lines.push(`version ${t.versionId} (${t.image}), ${d.replicas} replica(s), cpu ${t.cpuMillis} m, memory ${t.memoryMib} MiB`);
    const p = t.probe;
    lines.push(
      `health: ${p.kind === 'running' ? 'running (no probe, no port)' : `${p.kind} ${p.kind === 'command' ? JSON.stringify(p.command) : `:${p.port}${p.kind === 'http' ? p.path : ''}`}`}, every ${p.periodMs / 1000} s, ${p.failureThreshold} failure(s) allowed`,
    );
    if (d.stateful) lines.push('stateful: each replica keeps its volumes; replaced in place one at a time');
    else lines.push(`rolling: at most ${d.maxSurge} extra, ${d.maxUnavailable} unavailable`);
  }
  for (const w of d.warnings) lines.push(`warning: ${w}`);
  if (op.aborting) lines.push(`restoring after a failed rollout: ${op.aborting}`);
  return lines;
}
