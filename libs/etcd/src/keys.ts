/**
 * The key layout of the whole system in etcd: every key any service reads or writes is
 * built here, so this file is the map. All keys live under one root (WHARF_ETCD_PREFIX,
 * default "/wharf"), which lets several data centers or test runs share one etcd.
 *
 * Event store (libs/event-store):
 *   <root>/es/head/<stream>                 current version of a stream (decimal string)
 *   <root>/es/ev/<stream>/<version:16>      one EventEnvelope (protobuf binary); the global feed
 *                                           is the watch of <root>/es/ev/ in revision order
 *   <root>/es/snap/<stream>                 latest StreamSnapshot of a stream
 *   <root>/es/claim/<name>                  holder of a unique name (e.g. "http <host><path>" -> the
 *                                           component id), written in the same txn as the holder's
 *                                           events by a compare on its mod revision; never deleted,
 *                                           a stale holder is taken over (api-gateway's route claims)
 *   <root>/es/proj/<name>                   checkpoint (feed position) of a persisted projection
 *   <root>/es/proj/<name>/meta              a projection's latest persisted state: JSON {position,
 *                                           generation, chunks, bytes}; written after its chunks
 *   <root>/es/proj/<name>/chunk/<generation>/<n:4>   that state (gzipped JSON) in chunks under
 *                                           etcd's request size; older generations are deleted
 *                                           (api-gateway: name "api-gateway-catalog", cold start
 *                                           = load + follow the feed from position)
 *
 * Message queue (services/mq):
 *   <root>/mq/task/<topic>/<task_id>        TaskRecord (the task, attempts, visible_at); exists
 *                                           while the task is waiting or in flight
 *   <root>/mq/ready/<topic>/<visible_at:16>/<task_id>   empty; present while the task waits,
 *                                           ordered by the time it becomes visible
 *   <root>/mq/lease/<topic>/<task_id>       the lease_id while in flight (expiry and consumer are in
 *                                           the TaskRecord); Ack/Nack/ExtendLease compare on it, so
 *                                           a task is never held by two consumers
 *   <root>/mq/dead/<topic>/<task_id>        TaskRecord of a dead-lettered task
 *   Enqueue writes task + ready (or task + lease when a consumer is already waiting on that
 *   instance); claim moves ready -> lease, Ack deletes task + lease, Nack/expiry moves lease ->
 *   ready (or task -> dead): each step one etcd txn comparing mod revisions / the lease value.
 *
 * Event log (services/event-log):
 *   <root>/eventlog/members/<instance>      live instances (on an etcd lease); JSON {instance, grpc}
 *   <root>/eventlog/partition/<n>           owner of partition n (on the owner's lease); JSON
 *                                           {instance, grpc}. Created only if absent (txn), by the
 *                                           rendezvous-hash choice among live members; deleted by the
 *                                           owner after it closed the partition, or with its lease.
 *                                           Partition of an event id = FNV-1a(event_id) mod N; its
 *                                           data is <data dir>/p-<n:4> on the disk all instances share
 *
 * App manager (services/app-manager):
 *   <root>/appmgr/members/<instance>        live instances (on an etcd lease); JSON {instance, grpc}
 *   <root>/appmgr/slot/<n:4>                owner of component slot n (on the owner's lease), JSON
 *                                           {instance, grpc}: only the owner acts on the components
 *                                           of its slot (slot = FNV-1a(component id) mod N; taken
 *                                           create-only by the rendezvous choice among live members)
 *   <root>/appmgr/status/<component_id>     wharf.appmanager.v1.ComponentStatus (proto3 JSON): state,
 *                                           reason, versions, replicas with their reasons; rewritten
 *                                           only when it changes (never cpu/memory samples)
 *   <root>/locks/<name>                     etcd3 locks (create-only keys on a lease) of work two
 *                                           processes must not do at once, e.g. docker-network/<tenant>
 *   <root>/endpoints/<component_id>         wharf.appmanager.v1.ComponentEndpoints (proto3 JSON): the
 *                                           ready replicas' addresses and the component's ports, for
 *                                           lb-manager and dependants; a replica leaves it before it
 *                                           is stopped; deleted with the component
 *
 * Gateway (services/lb-manager):
 *   <root>/lb/default-cert                  the data center's self-signed default certificate, JSON
 *                                           {domain, cert_pem, key_pem | key_sealed_b64}: created once,
 *                                           create-only, by whichever lb-manager instance starts first;
 *                                           every instance serves the same one
 *
 * etcd maintenance (libs/etcd maintainer.ts, run by every mq instance):
 *   <root>/maintenance/election/etcd/<lease id>   one key per candidate, on its lease (etcd3's
 *                                           Election); the oldest is the one maintainer that
 *                                           compacts, defragments and disarms NOSPACE
 *
 * Nodes (services/node-manager, read through @wharf/nodes by api-gateway and app-manager):
 *   <root>/nodes/<node_id>                  wharf.node.v1.NodeHeartbeat (proto3 JSON) on the node-manager's
 *                                           lease: address, capacity, usage, health conditions. Gone when
 *                                           the lease expires; the node's state is the fold of node/<id>
 *   <root>/node-watch/election/nodes/<lease id>   one key per node-manager (etcd3's Election): the oldest
 *                                           watches every heartbeat and marks a node whose key expired
 *                                           ERROR_DETECTED
 *
 * Streams are named "<kind>/<id>" (tenant/…, app/…, component/…, node/…, operation/…).
 */
export class KeyLayout {
  constructor(readonly root: string = '/wharf') {
    if (!/^\/[A-Za-z0-9._\-/]*[A-Za-z0-9._-]$/.test(root)) throw new Error(`etcd key root must look like /name, got ${JSON.stringify(root)}`);
  }

  /** Zero-padded so lexical order equals numeric order. */
  static pad(n: number | bigint, width = 16): string {
    return n.toString().padStart(width, '0');
  }

  readonly es = {
    head: (stream: string) => `${this.root}/es/head/${stream}`,
    eventsPrefix: () => `${this.root}/es/ev/`,
    streamPrefix: (stream: string) => `${this.root}/es/ev/${stream}/`,
    event: (stream: string, version: number | bigint) => `${this.root}/es/ev/${stream}/${KeyLayout.pad(version)}`,
    snapshot: (stream: string) => `${this.root}/es/snap/${stream}`,
    claim: (name: string) => `${this.root}/es/claim/${name}`,
    projection: (name: string) => `${this.root}/es/proj/${name}`,
    projectionMeta: (name: string) => `${this.root}/es/proj/${name}/meta`,
    projectionChunkPrefix: (name: string, generation?: string) => `${this.root}/es/proj/${name}/chunk/${generation === undefined ? '' : `${generation}/`}`,
    projectionChunk: (name: string, generation: string, n: number) => `${this.root}/es/proj/${name}/chunk/${generation}/${KeyLayout.pad(n, 4)}`,
  };

  readonly mq = {
    topicPrefix: (kind: 'task' | 'ready' | 'lease' | 'dead', topic?: string) => `${this.root}/mq/${kind}/${topic === undefined ? '' : `${topic}/`}`,
    task: (topic: string, taskId: string) => `${this.root}/mq/task/${topic}/${taskId}`,
    ready: (topic: string, visibleAtMs: number, taskId: string) => `${this.root}/mq/ready/${topic}/${KeyLayout.pad(visibleAtMs)}/${taskId}`,
    lease: (topic: string, taskId: string) => `${this.root}/mq/lease/${topic}/${taskId}`,
    dead: (topic: string, taskId: string) => `${this.root}/mq/dead/${topic}/${taskId}`,
  };

  readonly eventlog = {
    membersPrefix: () => `${this.root}/eventlog/members/`,
    member: (instance: string) => `${this.root}/eventlog/members/${instance}`,
    partitionPrefix: () => `${this.root}/eventlog/partition/`,
    partition: (n: number) => `${this.root}/eventlog/partition/${KeyLayout.pad(n, 4)}`,
  };

  readonly appmgr = {
    membersPrefix: () => `${this.root}/appmgr/members/`,
    member: (instance: string) => `${this.root}/appmgr/members/${instance}`,
    slotPrefix: () => `${this.root}/appmgr/slot/`,
    slot: (n: number) => `${this.root}/appmgr/slot/${KeyLayout.pad(n, 4)}`,
    statusPrefix: () => `${this.root}/appmgr/status/`,
    status: (componentId: string) => `${this.root}/appmgr/status/${componentId}`,
  };

  readonly locks = {
    key: (name: string) => `${this.root}/locks/${name}`,
  };

  readonly endpoints = {
    prefix: () => `${this.root}/endpoints/`,
    component: (componentId: string) => `${this.root}/endpoints/${componentId}`,
  };

  readonly lb = {
    defaultCertificate: () => `${this.root}/lb/default-cert`,
  };

  readonly maintenance = {
    /** Namespace of the maintainer's election (etcd3 adds election/<name>/<lease id>). */
    prefix: () => `${this.root}/maintenance/`,
  };

  readonly nodes = {
    prefix: () => `${this.root}/nodes/`,
    node: (nodeId: string) => `${this.root}/nodes/${nodeId}`,
    /** Namespace of the lease watcher's election (etcd3 adds election/nodes/<lease id>). */
    watchPrefix: () => `${this.root}/node-watch/`,
  };
}
