import { kubernetesNodeLabels, type NodeRecord } from '@wharf/nodes';
import type { ClusterNode, NodePod } from '@wharf/runtime';

/**
 * What the Kubernetes node of a Wharf node should look like, and what to do to get there (pure):
 *  - labels: the Wharf node's labels and one wharf.io/role-<role>=true per role;
 *  - unschedulable unless READY (a cordoned INITED node, a NEW one, a failed one take no new
 *    pods; running ones stay);
 *  - ERROR_DETECTED drains it: every movable pod (a controller's, not a DaemonSet's or a static
 *    pod) is evicted through the Eviction API, so disruption budgets hold. On a node whose
 *    kubelet is gone (NotReady) nothing confirms a deletion: evicted pods stay Terminating and a
 *    pod already unready blocks its own budget, so those are force-deleted (their containers are
 *    unreachable anyway); a live kubelet stops them gracefully itself.
 *  - once no movable pod is left on it, the node's replicas are elsewhere: ERROR (migrated).
 * ERROR, OFFLINE and NEW nodes are not drained again: what the cluster puts there meanwhile is
 * kept off by unschedulable.
 */
export type PodAction = { kind: 'evict'; pod: NodePod; forceIfBlocked: boolean } | { kind: 'force-delete'; pod: NodePod; why: string };

export interface NodePlan {
  /** The Node object to apply, when it differs from what the cluster has. */
  apply?: { labels: Record<string, string>; unschedulable: boolean };
  pods: PodAction[];
  /** The drain is done: move the node ERROR_DETECTED -> ERROR. */
  migrated: boolean;
  /** Movable pods still on the node (for the log and the next round). */
  remaining: number;
}

export function desiredNode(record: Pick<NodeRecord, 'state' | 'labels' | 'roles'>): { labels: Record<string, string>; unschedulable: boolean } {
  return { labels: kubernetesNodeLabels(record), unschedulable: record.state !== 'READY' };
}

function differs(node: ClusterNode, want: { labels: Record<string, string>; unschedulable: boolean }): boolean {
  if (node.unschedulable !== want.unschedulable) return true;
  if (Object.entries(want.labels).some(([k, v]) => node.labels[k] !== v)) return true;
  // A label node-manager applied before and no longer wants must go.
  return node.ownedLabels.some((k) => !(k in want.labels) && k in node.labels);
}

export function planNode(record: Pick<NodeRecord, 'state' | 'labels' | 'roles'>, node: ClusterNode, pods: readonly NodePod[]): NodePlan {
  const want = desiredNode(record);
  const apply = differs(node, want) ? want : undefined;
  if (record.state !== 'ERROR_DETECTED') return { apply, pods: [], migrated: false, remaining: 0 };
  const movable = pods.filter((p) => p.movable && p.phase !== 'Succeeded' && p.phase !== 'Failed');
  const actions: PodAction[] = [];
  for (const pod of movable) {
    if (pod.terminating) {
      if (!node.ready)
        actions.push({ kind: 'force-delete', pod, why: `evicted, and node ${node.name} is not Ready (${node.readyMessage}): no kubelet confirms it` });
      continue;
    }
    actions.push({ kind: 'evict', pod, forceIfBlocked: !node.ready && !pod.ready });
  }
  // The executor applies before it evicts: a replacement is never scheduled back onto this node.
  return { apply, pods: actions, migrated: movable.length === 0, remaining: movable.length };
}
