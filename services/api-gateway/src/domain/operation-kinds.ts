import { eventsV1 } from '@wharf/contracts';
import { isTaskKind, TASK_KINDS, type TaskKind } from '@wharf/tasks';

/** An operation's kind is its task's kind (and mq topic): build, deploy, ..., pause, resume. */
export type OperationKindName = TaskKind;
export const OPERATION_KINDS = TASK_KINDS;

/** Pause and resume act on the component's running rollout: they never wait behind it nor take its place. */
export const CONTROL_KINDS: ReadonlySet<OperationKindName> = new Set(['pause', 'resume']);

/** What a pause or resume may act on: operations that replace replicas one by one. */
export const ROLLOUT_KINDS: ReadonlySet<OperationKindName> = new Set(['deploy', 'upgrade', 'rollback', 'restart']);

const values = new Map<string, eventsV1.OperationKind>(
  OPERATION_KINDS.map((k) => [k, eventsV1.OperationKind[k.toUpperCase() as keyof typeof eventsV1.OperationKind] as eventsV1.OperationKind]),
);

/** The enum value of a kind's name (UNSPECIFIED for a name that is none). */
export function kindValue(kind: string): eventsV1.OperationKind {
  return values.get(kind) ?? eventsV1.OperationKind.UNSPECIFIED;
}

/** The kind's name ('unspecified' for an event without one, as stored before kinds were checked). */
export function kindName(kind: eventsV1.OperationKind): string {
  return (eventsV1.OperationKind[kind] ?? 'UNSPECIFIED').toLowerCase();
}

export function isOperationKind(name: string): name is OperationKindName {
  return isTaskKind(name);
}
