import { create, type Message } from '@bufbuild/protobuf';
import { eventsV1, type tasksV1 } from '@wharf/contracts';
import { FailedPreconditionError, invalidArgument } from '@wharf/errors';
import { ROLLOUT_KINDS, type ComponentRecord } from './fleet';

/**
 * A lifecycle task turned into the events that record what it asks for (pure). app-manager
 * appends them to the component's stream under the task's event_id; its reconciler then drives
 * the runtime there and appends OperationApplied when it is in place. A task whose event_id was
 * accepted before (a redelivery) gives no events.
 */
export interface Intent {
  /** Events to append, in order (empty: nothing to do, e.g. a redelivered task). */
  events: Message[];
  /** True when the task was accepted before: nothing is appended again. */
  duplicate: boolean;
  /** Operations answered at once (pause, resume): their result for event-log. */
  immediate?: { ok: boolean; message: string };
}

export interface IntentSettings {
  maxSurge: number;
  maxUnavailable: number;
  maxReplicas: number;
}

const DEPLOYABLE = 'success';

function newestDeployable(r: ComponentRecord): eventsV1.VersionRecorded | undefined {
  for (let i = r.versions.length - 1; i >= 0; i--) {
    const v = r.versions[i];
    if (v.status === DEPLOYABLE && v.image)
      return create(eventsV1.VersionRecordedSchema, { componentId: r.id, versionId: v.id, image: v.image, status: v.status });
  }
  return undefined;
}

function version(r: ComponentRecord, field: string, versionId: string): { id: string; image: string } {
  if (versionId) {
    const v = r.versions.find((x) => x.id === versionId);
    if (!v) throw invalidArgument(field, `component ${r.id} has no version ${versionId}`);
    if (!v.image)
      throw new FailedPreconditionError(`version ${versionId} of ${r.id} has no image (status ${v.status || 'unknown'})`, { reason: 'version_not_built' });
    if (v.status && v.status !== DEPLOYABLE && v.status !== 'deployed')
      throw new FailedPreconditionError(`version ${versionId} of ${r.id} is ${v.status}, not ${DEPLOYABLE}`, { reason: 'version_not_built' });
    return { id: v.id, image: v.image };
  }
  const newest = newestDeployable(r);
  if (!newest) throw new FailedPreconditionError(`component ${r.id} has no successful version to deploy; build it first`, { reason: 'no_version' });
  return { id: newest.versionId, image: newest.image };
}

export function intentOf(task: tasksV1.Task, r: ComponentRecord, s: IntentSettings): Intent {
  const k = task.kind;
  if (k.case === undefined) throw invalidArgument('task', 'no kind');
  const eventId = k.value.eventId;
  if (r.accepted.has(eventId)) return { events: [], duplicate: true };
  if (r.retired && k.case !== 'delete') throw new FailedPreconditionError(`component ${r.id} is deleted`, { reason: 'deleted' });
  const componentId = r.id;
  // A newer operation takes over from one that was never applied (api-gateway sends one at a time).
  const superseded =
    r.operation && r.operation.eventId !== eventId && k.case !== 'pause' && k.case !== 'resume'
      ? [create(eventsV1.OperationAppliedSchema, { eventId: r.operation.eventId, succeeded: false, message: `superseded by operation ${eventId}` })]
      : [];
  const rollout = (kind: string, v: { id: string; image: string }, generation: number) => ({
    events: [
      ...superseded,
      create(eventsV1.RolloutStartedSchema, {
        componentId,
        kind,
        versionId: v.id,
        image: v.image,
        spec: r.spec,
        restartGeneration: BigInt(generation),
        maxSurge: s.maxSurge,
        maxUnavailable: s.maxUnavailable,
      }),
    ],
    duplicate: false,
  });
  const generation = r.deployed?.generation ?? 0;
  switch (k.case) {
    case 'deploy':
      return rollout('deploy', version(r, 'version_id', k.value.versionId || r.deployed?.versionId || ''), generation);
    case 'upgrade':
      return rollout('upgrade', version(r, 'version_id', k.value.versionId), generation);
    case 'rollback':
      return rollout('rollback', version(r, 'version_id', k.value.versionId), generation);
    case 'restart': {
      if (!r.deployed) throw new FailedPreconditionError(`component ${r.id} has no deployed version to restart`, { reason: 'not_deployed' });
      // The event's own stream version: a generation no replica carries yet.
      return rollout('restart', { id: r.deployed.versionId, image: r.deployed.image }, r.streamVersion + superseded.length + 1);
    }
    case 'scale': {
      const replicas = k.value.replicas ?? 0;
      if (replicas > s.maxReplicas) throw invalidArgument('replicas', `at most ${s.maxReplicas}, got ${replicas}`);
      return { events: [...superseded, create(eventsV1.ComponentScaledSchema, { componentId, replicas })], duplicate: false };
    }
    case 'stop':
      return { events: [...superseded, create(eventsV1.ComponentStoppedSchema, { componentId })], duplicate: false };
    case 'start':
      return { events: [...superseded, create(eventsV1.ComponentStartedSchema, { componentId })], duplicate: false };
    case 'delete':
      return { events: [...superseded, create(eventsV1.ComponentRetiredSchema, { componentId })], duplicate: false };
    case 'pause':
    case 'resume': {
      const rolloutEventId = k.value.rolloutEventId;
      const running = r.operation?.eventId === rolloutEventId && ROLLOUT_KINDS.includes(r.operation.kind) && !r.operation.aborting && r.target;
      const applied = (ok: boolean, message: string) => create(eventsV1.OperationAppliedSchema, { eventId, succeeded: ok, message });
      if (!running) {
        const message = `rollout ${rolloutEventId} is not in progress on ${componentId}`;
        return { events: [applied(false, message)], duplicate: false, immediate: { ok: false, message } };
      }
      const event =
        k.case === 'pause'
          ? create(eventsV1.RolloutPausedSchema, { componentId, rolloutEventId })
          : create(eventsV1.RolloutResumedSchema, { componentId, rolloutEventId });
      const message = `${k.case === 'pause' ? 'paused' : 'resumed'} rollout ${rolloutEventId}`;
      return { events: [event, applied(true, message)], duplicate: false, immediate: { ok: true, message } };
    }
    case 'build':
      throw invalidArgument('task', "build tasks are the builder's, not app-manager's");
  }
}
