import type { eventsV1 } from '@wharf/contracts';
import type { RecordedEvent } from '@wharf/event-store';
import { nodeStateName, type NodeAction, type NodeStateName } from './lifecycle';

/** node/<id>: the stream of one node. */
export function nodeStream(nodeId: string): string {
  return `node/${nodeId}`;
}

export interface NodeTransitionRecord {
  action: string;
  from: NodeStateName;
  to: NodeStateName;
  reason: string;
  actor: string;
  timeMs: number;
}

/** A node as its stream says: the fold of node/<id>. */
export interface NodeRecord {
  id: string;
  address: string;
  state: NodeStateName;
  /** Cordoned by an administrator: node-manager does not take it online by itself. */
  cordoned: boolean;
  roles: string[];
  labels: Record<string, string>;
  registeredMs: number;
  /** The stream's version (optimistic concurrency of the next append). */
  version: number;
  /** The latest moves, newest last (at most HISTORY). */
  transitions: NodeTransitionRecord[];
}

const HISTORY = 20;

/** Folds one event of node/<id> into the record (undefined until NodeRegistered). */
export function applyNodeEvent(record: NodeRecord | undefined, e: RecordedEvent): NodeRecord | undefined {
  const m = e.message;
  switch (m.$typeName) {
    case 'wharf.events.v1.NodeRegistered': {
      const r = m as eventsV1.NodeRegistered;
      return {
        id: r.nodeId,
        address: r.address,
        state: 'NEW',
        cordoned: false,
        roles: [...r.roles],
        labels: { ...r.labels },
        registeredMs: e.timeMs,
        version: e.version,
        transitions: [],
      };
    }
    case 'wharf.events.v1.NodeStateChanged': {
      if (!record) return record;
      const c = m as eventsV1.NodeStateChanged;
      const to = nodeStateName(c.to);
      if (!to) return { ...record, version: e.version };
      const action = c.action as NodeAction;
      const cordoned = action === 'cordon' ? true : action === 'uncordon' ? false : record.cordoned;
      const entry: NodeTransitionRecord = {
        action: c.action,
        from: nodeStateName(c.from) ?? record.state,
        to,
        reason: c.reason,
        actor: e.actor,
        timeMs: e.timeMs,
      };
      return { ...record, state: to, cordoned, version: e.version, transitions: [...record.transitions, entry].slice(-HISTORY) };
    }
    case 'wharf.events.v1.NodeLabelsSet':
      return record && { ...record, labels: { ...(m as eventsV1.NodeLabelsSet).labels }, version: e.version };
    case 'wharf.events.v1.NodeRolesSet':
      return record && { ...record, roles: [...(m as eventsV1.NodeRolesSet).roles], version: e.version };
    default:
      return record && { ...record, version: e.version };
  }
}

export function foldNode(events: RecordedEvent[]): NodeRecord | undefined {
  return events.reduce<NodeRecord | undefined>(applyNodeEvent, undefined);
}
