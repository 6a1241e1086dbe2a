/**
 * @wharf/tasks: the tasks on mq (proto/wharf/tasks/v1/tasks.proto), for api-gateway, which
 * enqueues them, and the builder and app-manager, which consume them:
 *
 *   const task = decodeTask(delivery.task.payload, delivery.topic);   // InvalidArgumentError if unusable
 *   switch (task.kind.case) { case 'build': ... task.kind.value.source ... }
 *   await enqueue(topicOf('upgrade'), eventId, encodeTask(rolloutAfterBuild(build, versionId)!));
 *
 * One topic per kind (TASK_TOPICS, TASK_CONSUMER says who reads it); the mq task id is the event_id.
 */
export * from './task-kinds';
export * from './validate-task';
export * from './task-codec';
export * from './make-task';
