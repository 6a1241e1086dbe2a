import { clone, create } from '@bufbuild/protobuf';
import { tasksV1, type eventsV1 } from '@wharf/contracts';
import { ConflictError, FailedPreconditionError, invalidArgument } from '@wharf/errors';
import { makeTask } from '@wharf/tasks';
import type { ComponentView, OperationView } from './catalog';
import { ROLLOUT_KINDS } from './operation-kinds';
import type { OperationRequest } from './schemas';

export interface TaskTarget {
  eventId: string;
  tenantId: string;
  componentId: string;
}

/** What the builder builds: the component's source as its spec says now (the request's moment). */
export function buildSourceOf(spec: eventsV1.ComponentSpec): tasksV1.BuildSource | undefined {
  const s = spec.source;
  if (s.case === 'image') return create(tasksV1.BuildSourceSchema, { kind: { case: 'image', value: { image: s.value.image } } });
  if (s.case === 'git')
    return create(tasksV1.BuildSourceSchema, {
      kind: { case: 'git', value: { url: s.value.url, branch: s.value.branch, subDir: s.value.subDir, dockerfile: s.value.dockerfile } },
    });
  return undefined;
}

/**
 * The options of a build of `ref` (a commit a webhook was told about): the spec's git options
 * with that revision; none without a ref.
 */
export function buildOptionsOf(spec: eventsV1.ComponentSpec, ref: string | undefined): tasksV1.BuildOptions | undefined {
  if (!ref) return undefined;
  const given = spec.source.case === 'git' ? spec.source.value.options : undefined;
  const options = given ? clone(tasksV1.BuildOptionsSchema, given) : create(tasksV1.BuildOptionsSchema);
  options.ref = ref;
  return options;
}

/** Does this operation replace replicas one by one (so a pause or resume can act on it)? */
export function isRollout(op: OperationView): boolean {
  return ROLLOUT_KINDS.has(op.kind as never) || (op.task?.kind.case === 'build' && op.task.kind.value.deployAfter);
}

/** A version the request names must be one of the component's. */
function namedVersion(c: ComponentView, versionId: string | undefined): string {
  if (versionId && !c.versions.some((v) => v.id === versionId)) throw invalidArgument('version_id', `component ${c.id} has no version ${versionId}`);
  return versionId ?? '';
}

/**
 * The typed task of an accepted request, with everything its consumer needs resolved now:
 * the source to build (and the commit, for a webhook's push), the version to roll back to (the previous one unless named), the
 * rollout a pause or resume acts on.
 */
export function operationTask(
  req: OperationRequest,
  target: TaskTarget,
  c: ComponentView,
  running: OperationView | undefined,
  buildRef?: string,
): tasksV1.Task {
  switch (req.kind) {
    case 'build': {
      const source = buildSourceOf(c.spec);
      if (!source) throw new FailedPreconditionError(`component ${c.id} has no source to build`, { reason: 'no_source' });
      return makeTask('build', { ...target, source, deployAfter: req.deploy_after, options: buildOptionsOf(c.spec, buildRef) });
    }
    case 'deploy':
    case 'upgrade':
      return makeTask(req.kind, { ...target, versionId: namedVersion(c, req.version_id) });
    case 'rollback': {
      const versionId = namedVersion(c, req.version_id) || c.previousVersion;
      if (!versionId) throw new ConflictError(`component ${c.id} has no previous version to roll back to`, { reason: 'no_previous_version' });
      return makeTask('rollback', { ...target, versionId });
    }
    case 'scale':
      return makeTask('scale', { ...target, replicas: req.replicas });
    case 'start':
    case 'stop':
    case 'restart':
    case 'delete':
      return makeTask(req.kind, target);
    case 'pause':
    case 'resume':
      if (!running || !isRollout(running))
        throw new ConflictError(
          `component ${c.id} has no rollout running to ${req.kind}${running ? ` (its running operation ${running.eventId} is a ${running.kind})` : ''}`,
          {
            reason: 'no_rollout',
          },
        );
      return makeTask(req.kind, { ...target, rolloutEventId: running.eventId });
  }
}
