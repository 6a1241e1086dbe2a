import { ROLLOUT_KINDS } from './fleet';
import { completionMessage, failureOf, plan, type Action, type ObservedReplica, type PlanInput } from './plan';

/**
 * The reconciler's decisions for a runtime that rolls out itself (Kubernetes: capabilities
 * rollout = 'runtime'), as a pure function. The runtime gets the whole workload (the release's
 * template, the replica count, paused) and replaces the pods; app-manager follows the pods'
 * readiness to decide the operation's end. A rollout whose new pods fail (crash loop, OOM, image
 * that cannot be pulled, unschedulable, readiness never passing before the progress deadline) is
 * aborted: once the abort is folded the desired template is the previous release again, and
 * applying it is the rollback. Like plan(), it relies on nothing remembered: a restarted
 * app-manager applies the same workload and follows the same pods.
 */

export type WorkloadAction =
  | Action
  /** Apply the desired template with this many replicas (0: stopped). */
  | { kind: 'apply'; replicas: number; paused: boolean }
  /** Remove the component's workload (deleted, or nothing of it is known: an orphan). */
  | { kind: 'remove-workload'; why: 'delete' | 'orphan' };

const isDead = (r: ObservedReplica) => r.phase === 'exited' || r.phase === 'dead';

export function planWorkload(input: PlanInput): WorkloadAction[] {
  const { desired: d, nowMs } = input;
  if (!d) return input.replicas.length ? [{ kind: 'remove-workload', why: 'orphan' }] : [];
  const op = d.operation;
  if (d.retired) {
    const actions: WorkloadAction[] = [{ kind: 'remove-workload', why: 'delete' }];
    if (op && input.replicas.length === 0)
      actions.push({
        kind: 'complete',
        eventId: op.eventId,
        succeeded: !op.aborting && !d.operationFinished,
        message: op.aborting ?? (d.operationFinished ? 'finished elsewhere' : completionMessage(op.kind, d)),
        cleanup: true,
      });
    else if (op) actions.push({ kind: 'wait', why: `${input.replicas.length} replica(s) still to remove` });
    return actions;
  }
  // Never deployed: nothing to apply; the operation ends as plan() says (a rollout without a version fails).
  if (!d.template) return plan({ ...input, replicas: [] });

  const t = d.template;
  const n = d.replicas;
  // Pods being deleted count for nothing (a Deployment's rollout is done while old pods terminate).
  const live = input.replicas.filter((r) => !r.retiring && r.phase !== 'removing');
  const cur = live.filter((r) => r.template === t.hash);
  const old = live.filter((r) => r.template !== t.hash);
  const rollout = op && ROLLOUT_KINDS.includes(op.kind) && !op.aborting;

  const brokenNew = cur.find((r) => isDead(r) || r.health === 'failed');
  const applyFailure = input.backoff && input.backoff.template === t.hash && input.backoff.failures > 0 ? input.backoff.reason : undefined;
  const overdue =
    op && !op.aborting && !d.paused && nowMs - op.sinceMs > input.progressDeadlineMs
      ? `not done after ${Math.round(input.progressDeadlineMs / 1000)} s`
      : undefined;
  // The runtime may still route to a replica being removed, or of another release, for a moment
  // (Kubernetes: until its Service's EndpointSlices drop it): in place only once it no longer does.
  const draining = input.replicas.filter((r) => r.health === 'ready' && (r.retiring || r.phase === 'removing'));
  const inPlace = old.length === 0 && draining.length === 0 && cur.length === n && cur.every((r) => r.health === 'ready');
  const givenUp = d.operationFinished && !inPlace ? 'the operation already has a final status (event-log gave up on it)' : undefined;
  const failure = d.problems[0] ?? applyFailure ?? (brokenNew && n > 0 ? failureOf(brokenNew) : undefined) ?? overdue ?? givenUp;
  if (op && !op.aborting && failure) {
    // The failed release is not applied again: the next pass applies the previous one.
    if (rollout) return [{ kind: 'abort', eventId: op.eventId, reason: failure }];
    return [
      { kind: 'apply', replicas: n, paused: d.paused },
      { kind: 'complete', eventId: op.eventId, succeeded: false, message: failure, cleanup: false },
    ];
  }

  const actions: WorkloadAction[] = [{ kind: 'apply', replicas: n, paused: d.paused }];
  if (d.paused) {
    actions.push({ kind: 'wait', why: 'rollout paused' });
    return actions;
  }
  if (!op) return actions;
  // Stopped: done once every pod is gone; else once exactly n pods of the template are ready and no old one serves.
  const converged = n === 0 ? input.replicas.length === 0 : inPlace;
  if (converged)
    actions.push({
      kind: 'complete',
      eventId: op.eventId,
      succeeded: !op.aborting,
      message: op.aborting ?? completionMessage(op.kind, d),
      deployVersionId: rollout ? t.versionId : undefined,
      cleanup: false,
    });
  else {
    const ready = cur.filter((r) => r.health === 'ready').length;
    actions.push({
      kind: 'wait',
      why:
        n === 0
          ? `${input.replicas.length} replica(s) still to stop`
          : `${ready}/${n} replica(s) of ${t.versionId} ready${old.length ? `, ${old.length} of the previous release still serving` : ''}${
              draining.length ? `, ${draining.length} being removed still receiving traffic` : ''
            }`,
    });
  }
  return actions;
}
