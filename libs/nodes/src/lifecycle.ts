import { eventsV1 } from '@wharf/contracts';

/** The machine lifecycle of a node (seed yiqiu's): the fold of its node/<id> stream. */
export const NODE_STATES = ['NEW', 'INITED', 'READY', 'ERROR_DETECTED', 'ERROR', 'OFFLINE'] as const;
export type NodeStateName = (typeof NODE_STATES)[number];

/**
 * The named moves. init and online are node-manager's (init checks passed; the node goes
 * online unless cordoned); cordon, uncordon, repair and offline an administrator's; fail is a
 * failing health condition or an expired heartbeat lease; migrated says the node's replicas
 * are elsewhere now.
 */
export const NODE_ACTIONS = ['init', 'online', 'cordon', 'uncordon', 'fail', 'migrated', 'repair', 'offline'] as const;
export type NodeAction = (typeof NODE_ACTIONS)[number];

const ANY_BUT_OFFLINE: readonly NodeStateName[] = ['NEW', 'INITED', 'READY', 'ERROR_DETECTED', 'ERROR'];

/** The one table of allowed moves: action -> (from states, to state). Nothing else is a transition. */
export const TRANSITIONS: Readonly<Record<NodeAction, { from: readonly NodeStateName[]; to: NodeStateName }>> = {
  init: { from: ['NEW'], to: 'INITED' },
  online: { from: ['INITED'], to: 'READY' },
  cordon: { from: ['READY'], to: 'INITED' },
  uncordon: { from: ['INITED'], to: 'READY' },
  fail: { from: ['INITED', 'READY'], to: 'ERROR_DETECTED' },
  migrated: { from: ['ERROR_DETECTED'], to: 'ERROR' },
  repair: { from: ['ERROR'], to: 'NEW' },
  offline: { from: ANY_BUT_OFFLINE, to: 'OFFLINE' },
};

export type TransitionResult =
  | { ok: true; from: NodeStateName; to: NodeStateName; action: NodeAction }
  | { ok: false; from: NodeStateName; action: string; allowed: NodeAction[]; message: string };

/** The actions allowed from a state, in the table's order (none from OFFLINE). */
export function allowedActions(state: NodeStateName): NodeAction[] {
  return NODE_ACTIONS.filter((a) => TRANSITIONS[a].from.includes(state));
}

export function isNodeAction(value: unknown): value is NodeAction {
  return typeof value === 'string' && (NODE_ACTIONS as readonly string[]).includes(value);
}

/**
 * One move of the lifecycle, pure: the new state, or a refusal that names the current state
 * and the moves allowed from it.
 */
export function transition(state: NodeStateName, action: string): TransitionResult {
  const allowed = allowedActions(state);
  if (isNodeAction(action) && allowed.includes(action)) return { ok: true, from: state, to: TRANSITIONS[action].to, action };
  const what = isNodeAction(action) ? `cannot ${action}` : `${JSON.stringify(action)} is no node action (${NODE_ACTIONS.join(', ')})`;
  const moves = allowed.length ? `allowed from ${state}: ${allowed.join(', ')}` : `nothing is allowed from ${state}`;
  return { ok: false, from: state, action, allowed, message: `node is ${state}: ${what}; ${moves}` };
}

const toProto: Record<NodeStateName, eventsV1.NodeState> = {
  NEW: eventsV1.NodeState.NEW,
  INITED: eventsV1.NodeState.INITED,
  READY: eventsV1.NodeState.READY,
  ERROR_DETECTED: eventsV1.NodeState.ERROR_DETECTED,
  ERROR: eventsV1.NodeState.ERROR,
  OFFLINE: eventsV1.NodeState.OFFLINE,
};

export function nodeStateValue(state: NodeStateName): eventsV1.NodeState {
  return toProto[state];
}

/** The state's name, undefined for UNSPECIFIED or a value this code does not know. */
export function nodeStateName(value: eventsV1.NodeState): NodeStateName | undefined {
  return NODE_STATES.find((s) => toProto[s] === value);
}
