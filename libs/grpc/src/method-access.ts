import type { Identity } from '@wharf/pki';

/**
 * Which identities may call which gRPC method: the one table of the data center. A method
 * that is not here admits no one (a new rpc is closed until someone writes its line), and a
 * unit test fails when a method of proto/ has no line or a line names no method.
 *
 * Who calls what, and why:
 * - mq Enqueue: api-gateway (every async action becomes a task) and builder (a build that
 *   succeeds queues the deploy).
 * - mq Dequeue, Subscribe, Ack, Nack, ExtendLease: the task consumers: builder (build),
 *   app-manager (lifecycle) and node-manager (node-scoped tasks). lb-manager takes no tasks:
 *   it follows routes and endpoints from the event store, so it is not here.
 * - mq Stats, ListDead: the operator (admin certificate), read-only.
 * - event-log Append, Ingest: whoever reports an operation's steps and lines (builder,
 *   app-manager, node-manager, api-gateway for its own steps) and event-log itself, whose
 *   instances forward a partition's frames to its owner.
 * - event-log Read, ListOperations, Follow: api-gateway (operations' steps, history),
 *   event-log (forwarding to the owner) and the operator, read-only.
 * - app-manager GetComponentStatus (live cpu and memory of replicas): api-gateway and the
 *   operator, read-only.
 */
export const METHOD_ACCESS: Readonly<Record<string, readonly Identity[]>> = {
  '/wharf.mq.v1.MqService/Enqueue': ['api-gateway', 'builder'],
  '/wharf.mq.v1.MqService/Dequeue': ['builder', 'app-manager', 'node-manager'],
  '/wharf.mq.v1.MqService/Subscribe': ['builder', 'app-manager', 'node-manager'],
  '/wharf.mq.v1.MqService/Ack': ['builder', 'app-manager', 'node-manager'],
  '/wharf.mq.v1.MqService/Nack': ['builder', 'app-manager', 'node-manager'],
  '/wharf.mq.v1.MqService/ExtendLease': ['builder', 'app-manager', 'node-manager'],
  '/wharf.mq.v1.MqService/Stats': ['admin'],
  '/wharf.mq.v1.MqService/ListDead': ['admin'],

  '/wharf.eventlog.v1.EventLogService/Append': ['builder', 'app-manager', 'node-manager', 'api-gateway', 'event-log'],
  '/wharf.eventlog.v1.EventLogService/Ingest': ['builder', 'app-manager', 'node-manager', 'api-gateway', 'event-log'],
  '/wharf.eventlog.v1.EventLogService/Read': ['api-gateway', 'event-log', 'admin'],
  '/wharf.eventlog.v1.EventLogService/ListOperations': ['api-gateway', 'event-log', 'admin'],
  '/wharf.eventlog.v1.EventLogService/Follow': ['api-gateway', 'event-log', 'admin'],

  '/wharf.appmanager.v1.AppManagerService/GetComponentStatus': ['api-gateway', 'admin'],
};

/**
 * Which identity serves each gRPC service: a client checks that the server it reached holds
 * that certificate (every certificate is valid for 127.0.0.1, so the host name alone would
 * let any service answer for any other).
 */
export const SERVED_BY: Readonly<Record<string, Identity>> = {
  'wharf.mq.v1.MqService': 'mq',
  'wharf.eventlog.v1.EventLogService': 'event-log',
  'wharf.appmanager.v1.AppManagerService': 'app-manager',
};
