import type { tasksV1 } from '@wharf/contracts';
import type { ComponentRecord } from './fleet';

/**
 * Whether a task asks for new replicas somewhere: a deploy, a rollout (upgrade, rollback,
 * restart), a start, a scale up. Stop, delete, pause, resume and a scale down place nothing,
 * so they go on when no node can take replicas (cordoned host, failed node).
 */
export function placesNewReplicas(task: tasksV1.Task, record: Pick<ComponentRecord, 'replicas'>): boolean {
  switch (task.kind.case) {
    case 'deploy':
    case 'upgrade':
    case 'rollback':
    case 'restart':
    case 'start':
      return true;
    case 'scale':
      return (task.kind.value.replicas ?? 0) > record.replicas;
    case 'build':
    case 'stop':
    case 'delete':
    case 'pause':
    case 'resume':
    case undefined:
      return false;
  }
}

/** Why no new replica can be placed now, or undefined when one can (reads the nodes, see adapters/node-placement.ts). */
export interface PlacementGate {
  /** placement: the node labels the component's replicas need. */
  blocker(placement?: Record<string, string>): Promise<string | undefined>;
}
