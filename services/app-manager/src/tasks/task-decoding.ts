import type { tasksV1 } from '@wharf/contracts';
import { invalidArgument } from '@wharf/errors';
import { decodeTask, isTaskKind, makeTask, validateTask } from '@wharf/tasks';

interface LegacyBody {
  event_id?: unknown;
  kind?: unknown;
  target?: unknown;
  tenant_id?: unknown;
  args?: { replicas?: unknown; version_id?: unknown; rollout_event_id?: unknown };
}

/**
 * The task of an mq payload. A wharf.tasks.v1.Task is what api-gateway sends once it uses
 * @wharf/tasks; until then (main's api-gateway) the body is the older JSON
 * {event_id, kind, target, tenant_id, args}, which is read here into the same typed Task and
 * checked by the same rules. Drop the JSON branch when api-gateway sends typed tasks only.
 */
export function decodeAnyTask(payload: Uint8Array, topic: string): tasksV1.Task {
  if (payload[0] !== 0x7b) return decodeTask(payload, topic);
  let body: LegacyBody;
  try {
    body = JSON.parse(Buffer.from(payload).toString('utf8')) as LegacyBody;
  } catch (err) {
    throw invalidArgument('payload', `not a task: ${(err as Error).message}`);
  }
  const kind = body.kind;
  if (!isTaskKind(kind)) throw invalidArgument('payload.kind', `${JSON.stringify(kind)} is not a task kind`);
  if (kind !== topic) throw invalidArgument('topic', `a ${kind} task arrived on topic ${JSON.stringify(topic)}`);
  const target = typeof body.target === 'string' ? body.target : '';
  if (!target.startsWith('component/')) throw invalidArgument('payload.target', `${JSON.stringify(target)} is not component/<id>`);
  const header = {
    eventId: typeof body.event_id === 'string' ? body.event_id : '',
    tenantId: typeof body.tenant_id === 'string' ? body.tenant_id : '',
    componentId: target.slice('component/'.length),
  };
  const args = body.args ?? {};
  const versionId = typeof args.version_id === 'string' ? args.version_id : '';
  const rolloutEventId = typeof args.rollout_event_id === 'string' ? args.rollout_event_id : '';
  const replicas = typeof args.replicas === 'number' ? args.replicas : undefined;
  let task: tasksV1.Task;
  switch (kind) {
    case 'scale':
      task = makeTask('scale', { ...header, replicas });
      break;
    case 'deploy':
    case 'upgrade':
    case 'rollback':
      task = makeTask(kind, { ...header, versionId });
      break;
    case 'pause':
    case 'resume':
      task = makeTask(kind, { ...header, rolloutEventId });
      break;
    case 'start':
    case 'stop':
    case 'restart':
    case 'delete':
      task = makeTask(kind, header);
      break;
    case 'build':
      throw invalidArgument('topic', "build tasks are the builder's");
  }
  validateTask(task);
  return task;
}
