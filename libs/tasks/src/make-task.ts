import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { tasksV1 } from '@wharf/contracts';
import type { TaskKind } from './task-kinds';

const schemas = {
  build: tasksV1.BuildTaskSchema,
  deploy: tasksV1.DeployTaskSchema,
  start: tasksV1.StartTaskSchema,
  stop: tasksV1.StopTaskSchema,
  restart: tasksV1.RestartTaskSchema,
  scale: tasksV1.ScaleTaskSchema,
  upgrade: tasksV1.UpgradeTaskSchema,
  rollback: tasksV1.RollbackTaskSchema,
  delete: tasksV1.DeleteTaskSchema,
  pause: tasksV1.PauseRolloutTaskSchema,
  resume: tasksV1.ResumeRolloutTaskSchema,
} as const satisfies Record<TaskKind, unknown>;

/** A Task of one kind from its fields, e.g. makeTask('scale', { eventId, tenantId, componentId, replicas: 3 }). */
export function makeTask<K extends TaskKind>(kind: K, init: MessageInitShape<(typeof schemas)[K]>): tasksV1.Task {
  // The oneof's case and value types are correlated through K, which TypeScript cannot follow here.
  const value = create(schemas[kind] as (typeof schemas)['build'], init as MessageInitShape<(typeof schemas)['build']>);
  return create(tasksV1.TaskSchema, { kind: { case: kind, value } as tasksV1.Task['kind'] });
}

/**
 * What the builder enqueues after a build that deploys: an upgrade to the version it
 * recorded, under the build's own event_id (one operation, one timeline). Undefined when
 * the build was not asked to deploy.
 */
export function rolloutAfterBuild(build: tasksV1.BuildTask, versionId: string): tasksV1.Task | undefined {
  if (!build.deployAfter) return undefined;
  return makeTask('upgrade', { eventId: build.eventId, tenantId: build.tenantId, componentId: build.componentId, versionId });
}
