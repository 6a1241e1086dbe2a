import type { tasksV1 } from '@wharf/contracts';

/** The oneof case of a Task: its kind, which is also its mq topic. */
export type TaskKind = NonNullable<tasksV1.Task['kind']['case']>;

/** The task message of one kind, e.g. TaskOf<'scale'> = ScaleTask. */
export type TaskOf<K extends TaskKind> = Extract<tasksV1.Task['kind'], { case: K }>['value'];

export const TASK_KINDS = [
  'build',
  'deploy',
  'start',
  'stop',
  'restart',
  'scale',
  'upgrade',
  'rollback',
  'delete',
  'pause',
  'resume',
] as const satisfies readonly TaskKind[];

/** Which service consumes each topic: the builder builds, app-manager runs everything else. */
export const TASK_CONSUMER: Record<TaskKind, 'builder' | 'app-manager'> = {
  build: 'builder',
  deploy: 'app-manager',
  start: 'app-manager',
  stop: 'app-manager',
  restart: 'app-manager',
  scale: 'app-manager',
  upgrade: 'app-manager',
  rollback: 'app-manager',
  delete: 'app-manager',
  pause: 'app-manager',
  resume: 'app-manager',
};

/** The mq topic a task of this kind is enqueued on (the kind's name: one topic per kind). */
export function topicOf(kind: TaskKind): string {
  return kind;
}

/** Every topic, e.g. for a consumer that serves all of app-manager's. */
export const TASK_TOPICS: Record<TaskKind, string> = Object.fromEntries(TASK_KINDS.map((k) => [k, topicOf(k)])) as Record<TaskKind, string>;

export function isTaskKind(value: unknown): value is TaskKind {
  return typeof value === 'string' && (TASK_KINDS as readonly string[]).includes(value);
}
