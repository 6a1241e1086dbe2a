import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { tasksV1 } from '@wharf/contracts';
import { InvalidArgumentError, invalidArgument } from '@wharf/errors';
import { TASK_KINDS, topicOf } from './task-kinds';
import { validateTask } from './validate-task';

/** The mq payload of a task; refuses (InvalidArgumentError) a task a consumer could not act on. */
export function encodeTask(task: tasksV1.Task): Uint8Array {
  validateTask(task);
  return toBinary(tasksV1.TaskSchema, task);
}

/**
 * A task from an mq payload, valid as encodeTask guarantees. Anything else (garbage, a
 * JSON body, a task of another kind than the topic says) is an InvalidArgumentError
 * that says what was wrong: a consumer dead-letters it instead of retrying.
 */
export function decodeTask(payload: Uint8Array, topic?: string): tasksV1.Task {
  let task: tasksV1.Task;
  try {
    task = fromBinary(tasksV1.TaskSchema, payload);
  } catch (err) {
    throw new InvalidArgumentError(`payload: ${payload.length} bytes that are not a wharf.tasks.v1.Task (${(err as Error).message})${jsonHint(payload)}`, {
      field: 'payload',
      cause: err,
    });
  }
  if (task.kind.case === undefined)
    throw new InvalidArgumentError(
      `payload: ${payload.length} bytes that hold no wharf.tasks.v1.Task kind (expected one of ${TASK_KINDS.join(', ')})${jsonHint(payload)}`,
      {
        field: 'payload',
      },
    );
  const header = validateTask(task);
  if (topic !== undefined && topic !== topicOf(header.kind)) throw invalidArgument('topic', `a ${header.kind} task arrived on topic ${JSON.stringify(topic)}`);
  return task;
}

/** Tasks enqueued before typed tasks were JSON text: say so rather than "invalid wire type". */
function jsonHint(payload: Uint8Array): string {
  return payload[0] === 0x7b ? '; it looks like JSON, the task body from before wharf.tasks.v1' : '';
}
