/**
 * @wharf/nodes: the machines of a data center, shared by node-manager (which registers and
 * watches them), api-gateway (which lists and changes them for an administrator) and
 * app-manager (which places replicas only on READY compute nodes):
 *  - lifecycle.ts: the state machine, a pure function over one table of moves
 *  - labels.ts: Kubernetes label syntax, roles, node ids
 *  - node-record.ts: the fold of node/<id>
 *  - node-directory.ts: reads (streams + heartbeat keys) and lifecycle moves through the event store
 *  - placement.ts: whether a new replica has somewhere to go
 *  - node-tasks.ts: built-in node tasks, their topics and streams
 */
export * from './lifecycle';
export * from './labels';
export * from './node-record';
export * from './node-directory';
export * from './placement';
export * from './node-tasks';
