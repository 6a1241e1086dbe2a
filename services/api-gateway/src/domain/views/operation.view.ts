import type { tasksV1 } from '@wharf/contracts';
import type { OperationView } from '../catalog';

function sourceView(source: tasksV1.BuildSource | undefined) {
  const s = source?.kind;
  if (s?.case === 'image') return { image: s.value.image };
  if (s?.case === 'git') return { git: { url: s.value.url, branch: s.value.branch, sub_dir: s.value.subDir, dockerfile: s.value.dockerfile } };
  return null;
}

/** An operation's arguments as the API shows them: its task's typed arguments, by kind. */
export function operationArgs(task: tasksV1.Task | undefined): Record<string, unknown> {
  const k = task?.kind;
  switch (k?.case) {
    case 'build':
      return { source: sourceView(k.value.source), deploy_after: k.value.deployAfter };
    case 'deploy':
    case 'upgrade':
    case 'rollback':
      return k.value.versionId ? { version_id: k.value.versionId } : {};
    case 'scale':
      return { replicas: k.value.replicas };
    case 'pause':
    case 'resume':
      return { rollout_event_id: k.value.rolloutEventId };
    case 'start':
    case 'stop':
    case 'restart':
    case 'delete':
    case undefined:
      return {};
  }
}

export function operationView(o: OperationView) {
  return {
    event_id: o.eventId,
    kind: o.kind,
    target: o.target,
    status: o.status,
    message: o.message || null,
    failed_step: o.failedStep || null,
    args: operationArgs(o.task),
    actor: o.actor,
    created_at_ms: o.createdAtMs,
    finished_at_ms: o.finishedAtMs ?? null,
  };
}
