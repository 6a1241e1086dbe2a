import { InvalidArgumentError } from '@wharf/errors';

/**
 * The built-in tasks a node-manager runs on its machine. Each is read-only except
 * prune-images, which removes only dangling images that carry a Wharf label.
 */
export const NODE_TASKS = {
  'disk-usage': 'space used and free on the node data path, and the Docker Engine disk usage by kind',
  'container-list': "the data center's containers on this node: name, image, state",
  'prune-images': 'removes dangling images that carry a Wharf label (never an unlabelled or tagged one)',
  'health-check': 'runs every health condition now and reports each one',
} as const;
export type NodeTaskName = keyof typeof NODE_TASKS;

export function isNodeTaskName(value: unknown): value is NodeTaskName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(NODE_TASKS, value);
}

export function assertNodeTaskName(value: unknown, field = 'task'): NodeTaskName {
  if (!isNodeTaskName(value))
    throw new InvalidArgumentError(`${JSON.stringify(value)} is no node task (${Object.keys(NODE_TASKS).join(', ')})`, { field, reason: 'unknown_task' });
  return value;
}

/** The mq topic of one node's tasks (within mq's 63 characters: node ids have at most 52). */
export function nodeTaskTopic(nodeId: string): string {
  return `node-task.${nodeId}`;
}

/** node-task/<event_id>: the stream of one node task (OperationRequested, NodeTaskRequested, NodeTaskReported...). */
export function nodeTaskStream(eventId: string): string {
  return `node-task/${eventId}`;
}

/** The step of one node in the task's event-log timeline. */
export function nodeTaskStep(nodeId: string): string {
  return `node ${nodeId}`;
}
