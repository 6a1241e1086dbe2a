import { tasksV1, type eventsV1 } from '@wharf/contracts';
import { makeTask } from '@wharf/tasks';
import { isOperationKind, kindName } from './operation-kinds';
import { buildSourceOf } from './operation-task';

/** What events before typed tasks carried: the kind-specific arguments as JSON text. */
interface LegacyArgs {
  replicas?: unknown;
  version_id?: unknown;
}

/**
 * The typed task of an OperationRequested stored before wharf.tasks.v1 (args_json), so
 * such an operation is shown and dispatched like a new one. A build takes the source of
 * the component's spec when the event is folded, which is the spec of its request.
 * Undefined when the stored event cannot make a task (unknown kind, missing argument).
 */
export function taskFromLegacyArgs(requested: eventsV1.OperationRequested, spec: eventsV1.ComponentSpec | undefined): tasksV1.Task | undefined {
  const kind = kindName(requested.kind);
  if (!isOperationKind(kind)) return undefined;
  let args: LegacyArgs = {};
  try {
    const parsed: unknown = requested.argsJson ? JSON.parse(requested.argsJson) : {};
    if (parsed && typeof parsed === 'object') args = parsed as LegacyArgs;
  } catch {
    return undefined;
  }
  const header = { eventId: requested.eventId, tenantId: requested.tenantId, componentId: requested.target.replace(/^component\//, '') };
  const versionId = typeof args.version_id === 'string' ? args.version_id : '';
  switch (kind) {
    case 'build': {
      const source = spec && buildSourceOf(spec);
      return source && makeTask('build', { ...header, source, deployAfter: false });
    }
    case 'scale':
      return typeof args.replicas === 'number' ? makeTask('scale', { ...header, replicas: args.replicas }) : undefined;
    case 'deploy':
    case 'upgrade':
      return makeTask(kind, { ...header, versionId });
    case 'rollback':
      return versionId ? makeTask('rollback', { ...header, versionId }) : undefined;
    case 'start':
    case 'stop':
    case 'restart':
    case 'delete':
      return makeTask(kind, header);
    case 'pause':
    case 'resume':
      return undefined; // no stored event before typed tasks has these kinds
  }
}
