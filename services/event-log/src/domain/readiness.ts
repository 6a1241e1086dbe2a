/** Whether an instance can serve its main calls right now, and why not. */
export interface Readiness {
  ready: boolean;
  /** Why it is not ready (empty when ready). */
  reason: string;
}

/** Where one partition stands, as seen from this instance. */
export type PartitionReach = { state: 'open' } | { state: 'not-open' } | { state: 'remote'; instance: string; reachable: boolean } | { state: 'unowned' };

/**
 * Ready when every partition is open here or owned by an instance this one can reach (calls
 * to it are forwarded), and coordination works (`trouble`: e.g. etcd cannot be reached).
 * The reason lists what is missing, e.g. "partitions 3, 7 have no owner yet".
 */
export function readinessOf(partitions: readonly PartitionReach[], trouble?: string): Readiness {
  const unowned: number[] = [];
  const notOpen: number[] = [];
  const unreachable = new Map<string, number[]>();
  partitions.forEach((p, i) => {
    switch (p.state) {
      case 'open':
        return;
      case 'not-open':
        notOpen.push(i);
        return;
      case 'unowned':
        unowned.push(i);
        return;
      case 'remote': {
        if (p.reachable) return;
        let list = unreachable.get(p.instance);
        if (!list) unreachable.set(p.instance, (list = []));
        list.push(i);
        return;
      }
    }
  });
  const reasons: string[] = [];
  if (trouble) reasons.push(trouble);
  if (unowned.length) reasons.push(`${partitionList(unowned)} ${unowned.length === 1 ? 'has' : 'have'} no owner yet`);
  if (notOpen.length) reasons.push(`${partitionList(notOpen)} ${notOpen.length === 1 ? 'is' : 'are'} owned here but not open yet`);
  for (const [instance, list] of unreachable) reasons.push(`${partitionList(list)}: owner ${instance} cannot be reached`);
  if (partitions.length === 0) reasons.push('no partitions known yet');
  return { ready: reasons.length === 0, reason: reasons.join('; ') };
}

function partitionList(ps: number[]): string {
  return `${ps.length === 1 ? 'partition' : 'partitions'} ${ps.join(', ')}`;
}

/** Asks whether the service is ready now (what a /readyz endpoint calls). */
export type ReadinessProbe = () => Promise<Readiness>;
