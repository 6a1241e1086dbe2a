import type { tasksV1 } from '@wharf/contracts';
import { invalidArgument } from '@wharf/errors';
import { TASK_KINDS, type TaskKind } from './task-kinds';

export interface TaskHeader {
  kind: TaskKind;
  eventId: string;
  tenantId: string;
  componentId: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

/** The kind and the three fields every task carries. */
export function taskHeader(task: tasksV1.Task): TaskHeader {
  const kind = task.kind;
  if (kind.case === undefined) throw invalidArgument('task', `no kind is set (expected one of ${TASK_KINDS.join(', ')})`);
  return { kind: kind.case, eventId: kind.value.eventId, tenantId: kind.value.tenantId, componentId: kind.value.componentId };
}

/**
 * The invariants a consumer may rely on: one kind, the header filled in, and each kind's
 * required arguments present. Throws InvalidArgumentError naming the field (e.g.
 * `task.scale.replicas`); returns the task's header.
 */
export function validateTask(task: tasksV1.Task): TaskHeader {
  const header = taskHeader(task);
  const at = (field: string) => `task.${header.kind}.${field}`;
  for (const [field, value] of [
    ['event_id', header.eventId],
    ['tenant_id', header.tenantId],
    ['component_id', header.componentId],
  ] as const)
    if (!ID.test(value)) throw invalidArgument(at(field), value ? 'must be an id of letters, digits and . _ : - (at most 200)' : 'is required');
  const k = task.kind;
  switch (k.case) {
    case 'build': {
      const source = k.value.source?.kind;
      if (!source || source.case === undefined) throw invalidArgument(at('source'), 'is required (an image or a git repository)');
      if (source.case === 'image' && !source.value.image) throw invalidArgument(at('source.image.image'), 'is required');
      if (source.case === 'git' && !source.value.url) throw invalidArgument(at('source.git.url'), 'is required');
      break;
    }
    case 'scale':
      if (k.value.replicas === undefined) throw invalidArgument(at('replicas'), 'is required (0 stops every replica)');
      break;
    case 'rollback':
      if (!k.value.versionId) throw invalidArgument(at('version_id'), 'is required');
      break;
    case 'pause':
    case 'resume':
      if (!ID.test(k.value.rolloutEventId)) throw invalidArgument(at('rollout_event_id'), 'is required: the event_id of the rollout');
      break;
    case 'deploy':
    case 'start':
    case 'stop':
    case 'restart':
    case 'upgrade':
    case 'delete':
    case undefined:
      break;
  }
  return header;
}
