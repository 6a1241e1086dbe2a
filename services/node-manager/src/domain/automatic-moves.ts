import type { NodeAction, NodeRecord } from '@wharf/nodes';
import { describeFailure, failingConditions, type Condition } from './conditions';

export interface AutomaticMove {
  action: NodeAction;
  reason: string;
}

export interface MovePolicy {
  /** Failing rounds in a row before a condition fails the node. */
  failAfter: number;
  /**
   * Where a failed node's replicas can go. 'none' (Docker: one machine, one engine): there is
   * nowhere to move them, so ERROR_DETECTED goes on to ERROR at once and the replicas stay where
   * they are; 'runtime': the runtime moves them and the Kubernetes node sync says so (adapters/kubernetes-node-sync.ts).
   */
  migration: 'none' | 'runtime';
}

/**
 * What a node's own node-manager does next with its node (pure): register-time init checks,
 * going online, failing on a condition, and on Docker marking a failed node ERROR. It never
 * undoes an administrator: a cordoned node stays INITED, and ERROR, OFFLINE wait for repair.
 */
export function nextAutomaticMove(record: NodeRecord, conditions: readonly Condition[], policy: MovePolicy): AutomaticMove | undefined {
  const failing = failingConditions(conditions, policy.failAfter);
  switch (record.state) {
    case 'NEW': {
      // Init checks: every condition ok in the latest round (etcd too: the move is written there).
      const bad = conditions.filter((c) => !c.ok);
      if (conditions.length === 0 || bad.length) return undefined;
      return { action: 'init', reason: 'init checks passed: every health condition is ok' };
    }
    case 'INITED':
      if (failing.length) return { action: 'fail', reason: describeFailure(failing) };
      if (record.cordoned) return undefined;
      return conditions.every((c) => c.ok) ? { action: 'online', reason: 'online: init checks passed and the node is not cordoned' } : undefined;
    case 'READY':
      return failing.length ? { action: 'fail', reason: describeFailure(failing) } : undefined;
    case 'ERROR_DETECTED':
      return migrationMove(policy);
    case 'ERROR':
    case 'OFFLINE':
      return undefined;
  }
}

/** After ERROR_DETECTED, whoever detected it: on Docker nothing can move, so the node is ERROR at once. */
export function migrationMove(policy: Pick<MovePolicy, 'migration'>): AutomaticMove | undefined {
  return policy.migration === 'none'
    ? { action: 'migrated', reason: 'one Docker host: there is no other node to move replicas to; running replicas are left where they are' }
    : undefined;
}

/** Why a node must not wait for its init checks: conditions that are failing now (for the status line). */
export function blockingInit(conditions: readonly Condition[]): string {
  const bad = conditions.filter((c) => !c.ok);
  return bad.length ? bad.map((c) => `${c.type}: ${c.message}`).join('; ') : '';
}
