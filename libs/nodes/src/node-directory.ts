import { create, fromJsonString, type Message } from '@bufbuild/protobuf';
import { eventsV1, nodeV1 } from '@wharf/contracts';
import { FailedPreconditionError, NotFoundError } from '@wharf/errors';
import type { Etcd3, KeyLayout } from '@wharf/etcd';
import { ConcurrencyError, type EventStore } from '@wharf/event-store';
import { nodeStateValue, transition, type NodeAction } from './lifecycle';
import { foldNode, nodeStream, type NodeRecord } from './node-record';

/** A node: its stream's fold and, while its node-manager renews its lease, its heartbeat. */
export interface NodeView {
  record: NodeRecord;
  heartbeat?: nodeV1.NodeHeartbeat;
}

export function decodeHeartbeat(text: string): nodeV1.NodeHeartbeat | undefined {
  try {
    return fromJsonString(nodeV1.NodeHeartbeatSchema, text, { ignoreUnknownFields: true });
  } catch {
    return undefined; // a damaged value reads as no heartbeat
  }
}

const ATTEMPTS = 10;

export interface ChangeOptions {
  reason: string;
  actor: string;
  eventId?: string;
  /** Automatic callers (the lease watcher, node-manager): a move no longer allowed is skipped (undefined), not an error. */
  ifAllowed?: boolean;
  /** The stream version the caller saw (an administrator's If-Match); a newer stream is a conflict. */
  expectedVersion?: number;
}

/**
 * Reads and changes nodes through the event store (their streams) and etcd (their heartbeat
 * keys): what api-gateway, app-manager and node-manager share, so none needs another's code.
 */
export class NodeDirectory {
  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly store: Pick<EventStore, 'append' | 'read'>,
  ) {}

  /** Every node with a stream (the ids are the stream heads under es/head/node/). */
  async ids(): Promise<string[]> {
    const prefix = this.keys.es.head('node/');
    const keys = await this.client.getAll().prefix(prefix).keys();
    return keys.map((k) => k.slice(prefix.length)).sort();
  }

  async record(nodeId: string): Promise<NodeRecord | undefined> {
    return foldNode(await this.store.read(nodeStream(nodeId)));
  }

  async heartbeats(): Promise<Map<string, nodeV1.NodeHeartbeat>> {
    const prefix = this.keys.nodes.prefix();
    const all = await this.client.getAll().prefix(prefix).strings();
    const out = new Map<string, nodeV1.NodeHeartbeat>();
    for (const [key, value] of Object.entries(all)) {
      const hb = decodeHeartbeat(value);
      if (hb) out.set(key.slice(prefix.length), hb);
    }
    return out;
  }

  async heartbeat(nodeId: string): Promise<nodeV1.NodeHeartbeat | undefined> {
    const value = await this.client.get(this.keys.nodes.node(nodeId)).string();
    return value === null ? undefined : decodeHeartbeat(value);
  }

  async list(): Promise<NodeView[]> {
    const [ids, beats] = await Promise.all([this.ids(), this.heartbeats()]);
    const records = await Promise.all(ids.map((id) => this.record(id)));
    return records.filter((r): r is NodeRecord => r !== undefined).map((record) => ({ record, heartbeat: beats.get(record.id) }));
  }

  async get(nodeId: string): Promise<NodeView> {
    const [record, heartbeat] = await Promise.all([this.record(nodeId), this.heartbeat(nodeId)]);
    if (!record) throw new NotFoundError(`node ${nodeId} not found`);
    return { record, heartbeat };
  }

  /** The first event of node/<id>; false when the stream exists already (a restarted node-manager). */
  async register(r: { nodeId: string; address: string; roles: string[]; labels: Record<string, string> }, actor: string): Promise<boolean> {
    try {
      await this.store.append(nodeStream(r.nodeId), [{ message: create(eventsV1.NodeRegisteredSchema, r), actor }], 0);
      return true;
    } catch (err) {
      if (err instanceof ConcurrencyError) return false;
      throw err;
    }
  }

  /**
   * One move of the lifecycle, appended at the version it was decided on: a concurrent writer
   * makes it decide again on the new state. Refused moves throw FailedPreconditionError
   * (reason illegal_transition) naming the state and the allowed moves; nothing is written.
   */
  async change(nodeId: string, action: NodeAction, o: ChangeOptions): Promise<NodeRecord | undefined> {
    for (let attempt = 1; ; attempt++) {
      const record = await this.record(nodeId);
      if (!record) throw new NotFoundError(`node ${nodeId} not found`);
      if (o.expectedVersion !== undefined && o.expectedVersion !== record.version)
        throw new FailedPreconditionError(`node ${nodeId} is at version ${record.version}, not ${o.expectedVersion}: reload and retry`, {
          reason: 'version_mismatch',
        });
      const t = transition(record.state, action);
      if (!t.ok) {
        if (o.ifAllowed) return undefined;
        throw new FailedPreconditionError(`node ${nodeId} ${t.message.replace(/^node /, '')}`, { reason: 'illegal_transition' });
      }
      const message = create(eventsV1.NodeStateChangedSchema, { nodeId, from: nodeStateValue(t.from), to: nodeStateValue(t.to), action, reason: o.reason });
      if (await this.appendAt(nodeId, record.version, message, o, attempt)) return this.record(nodeId);
    }
  }

  async setLabels(nodeId: string, labels: Record<string, string>, o: Omit<ChangeOptions, 'ifAllowed' | 'reason'>): Promise<NodeRecord> {
    return this.update(nodeId, create(eventsV1.NodeLabelsSetSchema, { nodeId, labels }), o);
  }

  async setRoles(nodeId: string, roles: string[], o: Omit<ChangeOptions, 'ifAllowed' | 'reason'>): Promise<NodeRecord> {
    return this.update(nodeId, create(eventsV1.NodeRolesSetSchema, { nodeId, roles }), o);
  }

  private async update(nodeId: string, message: Message, o: Omit<ChangeOptions, 'ifAllowed' | 'reason'>): Promise<NodeRecord> {
    for (let attempt = 1; ; attempt++) {
      const record = await this.record(nodeId);
      if (!record) throw new NotFoundError(`node ${nodeId} not found`);
      if (record.state === 'OFFLINE') throw new FailedPreconditionError(`node ${nodeId} is OFFLINE: it takes no changes`, { reason: 'node_offline' });
      if (o.expectedVersion !== undefined && o.expectedVersion !== record.version)
        throw new FailedPreconditionError(`node ${nodeId} is at version ${record.version}, not ${o.expectedVersion}: reload and retry`, {
          reason: 'version_mismatch',
        });
      if (await this.appendAt(nodeId, record.version, message, o, attempt)) return (await this.record(nodeId))!;
    }
  }

  /** true: appended; false: the stream moved on meanwhile (decide again). */
  private async appendAt(nodeId: string, version: number, message: Message, o: { actor: string; eventId?: string }, attempt: number): Promise<boolean> {
    try {
      await this.store.append(nodeStream(nodeId), [{ message, actor: o.actor, eventId: o.eventId }], version);
      return true;
    } catch (err) {
      if (err instanceof ConcurrencyError && attempt < ATTEMPTS) return false;
      throw err;
    }
  }
}
