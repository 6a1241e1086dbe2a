import type { NodeRecord } from './node-record';

/**
 * Whether new replicas may be placed: undefined when some node is READY with the compute
 * role, else why not, naming every compute node and its state (e.g. the Docker host cordoned).
 * A data center whose nodes never registered (no node-manager runs) has no say here: the
 * caller decides what an empty list means.
 */
export function placementBlocker(nodes: readonly NodeRecord[]): string | undefined {
  const compute = nodes.filter((n) => n.roles.includes('compute') && n.state !== 'OFFLINE');
  if (compute.some((n) => n.state === 'READY')) return undefined;
  if (compute.length === 0) return 'no READY compute node is left: no node has the compute role';
  const states = compute.map((n) => `${n.id} ${n.state}${n.state === 'INITED' && n.cordoned ? ' (cordoned)' : ''}`);
  return `no READY compute node is left (${states.join(', ')}): new replicas cannot be placed; running replicas are left alone`;
}

export function readyComputeNodes(nodes: readonly NodeRecord[]): NodeRecord[] {
  return nodes.filter((n) => n.roles.includes('compute') && n.state === 'READY');
}
