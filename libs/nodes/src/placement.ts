import { matchesPlacement } from './labels';
import type { NodeRecord } from './node-record';

/**
 * Whether new replicas may be placed: undefined when some node is READY with the compute
 * role (and, given a component's placement, carries its labels), else why not, naming every
 * compute node and its state (e.g. the Docker host cordoned).
 * A data center whose nodes never registered (no node-manager runs) has no say here: the
 * caller decides what an empty list means.
 */
export function placementBlocker(nodes: readonly NodeRecord[], placement: Record<string, string> = {}): string | undefined {
  const compute = nodes.filter((n) => n.roles.includes('compute') && n.state !== 'OFFLINE');
  const ready = compute.filter((n) => n.state === 'READY');
  if (ready.some((n) => matchesPlacement(n, placement))) return undefined;
  if (compute.length === 0) return 'no READY compute node is left: no node has the compute role';
  if (ready.length) {
    const wanted = Object.entries(placement)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return `no READY compute node has the placement labels ${wanted} (READY: ${ready.map((n) => n.id).join(', ')}): new replicas cannot be placed; running replicas are left alone`;
  }
  const states = compute.map((n) => `${n.id} ${n.state}${n.state === 'INITED' && n.cordoned ? ' (cordoned)' : ''}`);
  return `no READY compute node is left (${states.join(', ')}): new replicas cannot be placed; running replicas are left alone`;
}

export function readyComputeNodes(nodes: readonly NodeRecord[]): NodeRecord[] {
  return nodes.filter((n) => n.roles.includes('compute') && n.state === 'READY');
}
