import type { ReplicaPhase } from '@wharf/runtime';
import type { DesiredComponent } from './desired';
import { ROLLOUT_KINDS } from './fleet';

/**
 * The reconciler's decisions, as a pure function: plan(desired, actual) -> actions. It runs
 * on every change (a new event, a replica that died or turned ready, a finished action) and on
 * a timer, against what the runtime lists now, so it never relies on remembering what it did:
 * an app-manager killed halfway through a rollout plans the rest of it after its restart.
 *
 * Rolling (stateless): at most replicas + maxSurge exist and at least replicas - maxUnavailable
 * are ready; a new replica is created, and an old one retired only once enough new ones pass
 * their probe. Stateful (volumes): slots 1..N are fixed, each keeps its volumes, and an old
 * replica is replaced in place, one slot at a time. A new replica that fails (crashes, never
 * passes its probe, cannot be created) aborts a rollout; the previous release then comes back
 * through the same plan. Crashed replicas are replaced with back-off; replicas that nothing
 * wants (a deleted component's, another template's after a rollout) are removed.
 */

/** Health as app-manager's probes (or a runtime that probes itself) see it. */
export type Health = 'starting' | 'ready' | 'unready' | 'failed';

export interface ObservedReplica {
  id: string;
  name: string;
  slot: number;
  template: string;
  versionId: string;
  restarts: number;
  /** 'pending': a create this app-manager has in flight (not listed by the runtime yet). */
  phase: ReplicaPhase | 'pending';
  health: Health;
  /** Being removed (drained from the endpoints, then stopped): counts for nothing any more. */
  retiring: boolean;
  /** Why it is not ready (crash, probe output, ...). */
  reason?: string;
  hostPorts: number[];
  /** Since when it has been ready (for back-off reset). */
  readySinceMs?: number;
}

/** Failures of a component's creates and replicas, for back-off and for aborting a rollout. */
export interface Backoff {
  failures: number;
  /** No create of `template` before this time. */
  retryAtMs: number;
  reason: string;
  template: string;
}

export interface PlanInput {
  nowMs: number;
  /** undefined: nothing of this component should run (unknown to the fold: orphans). */
  desired?: DesiredComponent;
  replicas: ObservedReplica[];
  backoff?: Backoff;
  /** A rollout or other operation that has not reached its goal after this long fails. */
  progressDeadlineMs: number;
}

export type RemoveReason = 'retire' | 'excess' | 'crashed' | 'failed' | 'orphan' | 'delete';

export type Action =
  | { kind: 'create'; slot: number; restarts: number; why: string }
  | { kind: 'remove'; replica: ObservedReplica; why: RemoveReason; drain: boolean }
  | { kind: 'abort'; eventId: string; reason: string }
  | { kind: 'complete'; eventId: string; succeeded: boolean; message: string; deployVersionId?: string; cleanup: boolean }
  | { kind: 'wait'; why: string };

const isDead = (r: ObservedReplica) => r.phase === 'exited' || r.phase === 'dead';
const byHighestSlot = (a: ObservedReplica, b: ObservedReplica) => b.slot - a.slot;
/** Unready or still starting first, then the highest slots: the cheapest ones to lose. */
const removalOrder = (a: ObservedReplica, b: ObservedReplica) => Number(a.health === 'ready') - Number(b.health === 'ready') || byHighestSlot(a, b);

export function failureOf(r: ObservedReplica): string {
  return `replica ${r.name} (${r.versionId}) ${isDead(r) ? 'crashed' : 'failed'}: ${r.reason ?? 'no reason given'}`;
}

export function plan(input: PlanInput): Action[] {
  const { desired: d, nowMs } = input;
  const actions: Action[] = [];
  const live = input.replicas.filter((r) => !r.retiring);
  const broken = live.filter((r) => isDead(r) || r.health === 'failed');
  for (const r of broken) actions.push({ kind: 'remove', replica: r, why: isDead(r) ? 'crashed' : 'failed', drain: false });
  const healthy = live.filter((r) => !broken.includes(r));
  const op = d?.operation;

  // Nothing should run: remove everything, then the operation (stop, delete) is done.
  if (!d || d.retired || !d.template || d.replicas === 0) {
    const why = !d ? 'orphan' : d.retired ? 'delete' : 'excess';
    for (const r of healthy) actions.push({ kind: 'remove', replica: r, why, drain: r.health === 'ready' });
    if (op && input.replicas.length === 0) {
      const rollout = ROLLOUT_KINDS.includes(op.kind);
      const succeeded = !op.aborting && !(rollout && !d.template) && !d.operationFinished;
      actions.push({
        kind: 'complete',
        eventId: op.eventId,
        succeeded,
        message: op.aborting ?? (d.operationFinished ? 'finished elsewhere' : completionMessage(op.kind, d)),
        deployVersionId: succeeded && rollout && d.template ? d.template.versionId : undefined,
        cleanup: d.retired,
      });
    } else if (op && input.replicas.length > 0) actions.push({ kind: 'wait', why: `${input.replicas.length} replica(s) still to remove` });
    return actions;
  }

  const t = d.template;
  const n = d.replicas;
  const cur = healthy.filter((r) => r.template === t.hash);
  const old = healthy.filter((r) => r.template !== t.hash);
  const rollout = op && ROLLOUT_KINDS.includes(op.kind) && !op.aborting;

  // A failure of the release being rolled out (or of any new replica under an operation).
  const brokenNew = broken.find((r) => r.template === t.hash);
  const createFailure = input.backoff && input.backoff.template === t.hash && input.backoff.failures > 0 ? input.backoff.reason : undefined;
  const overdue =
    op && !op.aborting && !d.paused && nowMs - op.sinceMs > input.progressDeadlineMs
      ? `not done after ${Math.round(input.progressDeadlineMs / 1000)} s`
      : undefined;
  // event-log gave up on the operation (timed out): stop, unless it is in place anyway.
  const inPlace = old.length === 0 && cur.length === n && cur.every((r) => r.health === 'ready');
  const givenUp = d.operationFinished && !inPlace ? 'the operation already has a final status (event-log gave up on it)' : undefined;
  const failure = d.problems[0] ?? (brokenNew ? failureOf(brokenNew) : undefined) ?? createFailure ?? overdue ?? givenUp;
  if (op && !op.aborting && failure) {
    if (rollout) actions.push({ kind: 'abort', eventId: op.eventId, reason: failure });
    else actions.push({ kind: 'complete', eventId: op.eventId, succeeded: false, message: failure, cleanup: false });
    if (rollout) return actions; // the previous release is planned once the abort is folded
  }

  if (d.paused) {
    actions.push({ kind: 'wait', why: 'rollout paused' });
    return actions;
  }

  const backingOff = input.backoff && input.backoff.template === t.hash && nowMs < input.backoff.retryAtMs;
  const mayCreate = !backingOff && d.problems.length === 0;
  // A slot is free only when no container holds its name any more (broken ones are still being removed).
  const usedSlots = new Set(input.replicas.map((r) => r.slot));
  // A replacement after crashes carries the count, so the status shows a crash loop as restarts.
  const restarts = Math.max(
    input.backoff && input.backoff.template === t.hash ? input.backoff.failures : 0,
    ...broken.filter((r) => r.template === t.hash).map((r) => r.restarts + 1),
  );
  const readyCur = cur.filter((r) => r.health === 'ready').length;
  const readyOld = old.filter((r) => r.health === 'ready').length;
  const retire = (r: ObservedReplica, why: RemoveReason) => actions.push({ kind: 'remove', replica: r, why, drain: r.health === 'ready' });
  let creates = 0;

  if (d.stateful) {
    // Fixed slots 1..N; an old replica gives its slot (and volumes) to its replacement.
    const unavailable = Math.max(1, d.maxUnavailable);
    for (const r of healthy.filter((x) => x.slot > n || x.slot < 1).sort(byHighestSlot)) retire(r, 'excess');
    const inRange = healthy.filter((x) => x.slot >= 1 && x.slot <= n);
    let ready = inRange.filter((x) => x.health === 'ready').length;
    const replaceable = inRange.filter((x) => x.template !== t.hash).sort(removalOrder);
    for (const r of replaceable) {
      if (r.health === 'ready') {
        if (ready - 1 < n - unavailable) break;
        ready--;
      } else if (r.health === 'starting') continue; // not known yet: it may turn ready
      retire(r, 'retire');
      usedSlots.add(r.slot); // its name and volumes are free only once it is gone
    }
    for (let slot = 1; slot <= n; slot++) {
      if (usedSlots.has(slot)) continue;
      if (!mayCreate) break;
      actions.push({ kind: 'create', slot, restarts, why: `replica ${slot}/${n}` });
      creates++;
    }
  } else {
    const surge = d.maxSurge === 0 && d.maxUnavailable === 0 ? 1 : d.maxSurge;
    // Two replicas cannot bind one host port: a new one waits for the old one to be gone.
    const holdsHostPort = old.some((r) => r.hostPorts.some((p) => t.ports.some((q) => q.hostPort === p)));
    const maxSurge = holdsHostPort ? 0 : surge;
    const maxUnavailable = holdsHostPort ? Math.max(1, d.maxUnavailable) : d.maxUnavailable;
    for (const r of [...cur].sort(removalOrder).slice(0, Math.max(0, cur.length - n))) retire(r, 'excess');
    const keptCur = Math.min(cur.length, n);
    let retired = 0;
    if (readyCur >= n) {
      for (const r of old) {
        retire(r, 'retire');
        retired++;
      }
    } else {
      let budget = readyCur + readyOld - (n - maxUnavailable);
      for (const r of [...old].sort(removalOrder)) {
        if (r.health === 'ready') {
          if (budget <= 0) continue;
          budget--;
        } else if (r.health === 'starting') continue;
        retire(r, 'retire');
        retired++;
      }
    }
    const total = keptCur + old.length - retired;
    const room = old.length - retired === 0 ? n - keptCur : Math.max(0, n + maxSurge - total);
    const want = Math.min(n - keptCur, room);
    if (want > 0 && mayCreate) {
      for (let slot = 1; creates < want; slot++) {
        if (usedSlots.has(slot)) continue;
        usedSlots.add(slot);
        creates++;
        actions.push({ kind: 'create', slot, restarts, why: `replica ${keptCur + creates}/${n}` });
      }
    }
  }

  if (backingOff && cur.length + creates < n)
    actions.push({ kind: 'wait', why: `backing off after: ${input.backoff!.reason}; next try in ${Math.ceil((input.backoff!.retryAtMs - nowMs) / 1000)} s` });

  // A rollout or scale is in place once the old replicas are out of the endpoints and being
  // stopped (as a Deployment's rollout is done while old pods terminate); a stop waits for them.
  const waitsForRemoval = op?.kind === 'stop';
  const converged =
    old.length === 0 &&
    cur.length === n &&
    readyCur === n &&
    creates === 0 &&
    broken.length === 0 &&
    (!waitsForRemoval || input.replicas.every((r) => !r.retiring));
  if (op && converged && !(failure && !op.aborting)) {
    actions.push({
      kind: 'complete',
      eventId: op.eventId,
      succeeded: !op.aborting,
      message: op.aborting ?? completionMessage(op.kind, d),
      deployVersionId: rollout ? t.versionId : undefined,
      cleanup: false,
    });
  }
  return actions;
}

export function completionMessage(kind: string, d: DesiredComponent): string {
  const v = d.template ? ` of ${d.template.versionId}` : '';
  switch (kind) {
    case 'stop':
      return 'stopped';
    case 'delete':
      return 'deleted';
    default:
      return `${d.replicas} replica(s)${v} ready`;
  }
}
