import type { DesiredComponent } from './desired';
import { ROLLOUT_KINDS, type ComponentRecord } from './fleet';
import type { Backoff, ObservedReplica } from './plan';

/**
 * A component's status as users see it (pure), from its desired state and its replicas as
 * observed. Every state that is not fine says why: an abnormal component names the replica
 * and its reason (exit code with the last log lines, OOM, image missing, probe output).
 */
export type ComponentStateName =
  'undeployed' | 'starting' | 'running' | 'scaling' | 'upgrading' | 'paused' | 'abnormal' | 'stopping' | 'stopped' | 'deleting' | 'deleted';

export type ReplicaStateName = 'creating' | 'starting' | 'ready' | 'unready' | 'crashed' | 'failed' | 'stopping';

export interface ReplicaView {
  name: string;
  slot: number;
  versionId: string;
  state: ReplicaStateName;
  reason: string;
  restarts: number;
  node: string;
  address: string;
  startedAtMs: number;
  probeOutput: string;
}

export interface StatusView {
  componentId: string;
  tenantId: string;
  appId: string;
  state: ComponentStateName;
  reason: string;
  versionId: string;
  targetVersionId: string;
  desiredReplicas: number;
  readyReplicas: number;
  operationEventId: string;
  replicas: ReplicaView[];
}

/** What the status needs of a replica besides the plan's view of it. */
export interface ReplicaDetails {
  node: string;
  address: string;
  startedAtMs?: number;
  probeOutput?: string;
}

export function replicaState(r: ObservedReplica): ReplicaStateName {
  // Retired by app-manager, or being deleted by the runtime (a Kubernetes pod terminating after a rollout).
  if (r.retiring || r.phase === 'removing') return 'stopping';
  // A runtime that says why a replica cannot start (image, scheduling) makes it failed, not still being created.
  if (r.phase === 'creating' && r.health === 'failed') return 'failed';
  if (r.phase === 'pending' || r.phase === 'creating') return 'creating';
  if (r.phase === 'exited' || r.phase === 'dead') return 'crashed';
  if (r.health === 'failed') return 'failed';
  return r.health;
}

export function statusOf(
  record: Pick<ComponentRecord, 'id' | 'tenantId' | 'appId' | 'stopped' | 'deployed'> | undefined,
  desired: DesiredComponent | undefined,
  replicas: ObservedReplica[],
  details: (r: ObservedReplica) => ReplicaDetails,
  backoff?: Backoff,
): StatusView {
  const views: ReplicaView[] = [...replicas]
    .sort((a, b) => a.slot - b.slot || a.name.localeCompare(b.name))
    .map((r) => {
      const d = details(r);
      const state = replicaState(r);
      return {
        name: r.name,
        slot: r.slot,
        versionId: r.versionId,
        state,
        reason: state === 'ready' ? '' : (r.reason ?? (state === 'starting' ? 'waiting for its probe to pass' : state === 'creating' ? 'being created' : '')),
        restarts: r.restarts,
        node: d.node,
        address: d.address,
        startedAtMs: d.startedAtMs ?? 0,
        probeOutput: d.probeOutput ?? '',
      };
    });
  const t = desired?.template;
  const ready = replicas.filter((r) => !r.retiring && r.health === 'ready' && r.phase === 'running' && (!t || r.template === t.hash)).length;
  const base = {
    componentId: record?.id ?? desired?.componentId ?? '',
    tenantId: record?.tenantId ?? desired?.tenantId ?? '',
    appId: record?.appId ?? desired?.appId ?? '',
    versionId: record?.deployed?.versionId ?? '',
    targetVersionId: desired?.template && desired.template.versionId !== record?.deployed?.versionId ? desired.template.versionId : '',
    desiredReplicas: desired?.replicas ?? 0,
    readyReplicas: ready,
    operationEventId: desired?.operation?.eventId ?? '',
    replicas: views,
  };
  const [state, reason] = stateOf(record, desired, replicas, views, ready, backoff);
  return { ...base, state, reason };
}

function stateOf(
  record: Pick<ComponentRecord, 'stopped' | 'deployed'> | undefined,
  d: DesiredComponent | undefined,
  replicas: ObservedReplica[],
  views: ReplicaView[],
  ready: number,
  backoff?: Backoff,
): [ComponentStateName, string] {
  const n = replicas.length;
  if (!d || !record) return n ? ['deleting', `${n} replica(s) of a component that no longer exists are being removed`] : ['deleted', 'deleted'];
  if (d.retired) return n ? ['deleting', `removing ${n} replica(s)`] : ['deleted', 'deleted'];
  if (!d.template) return ['undeployed', 'no version deployed yet'];
  const troubled = views.find((v) => v.state === 'crashed' || v.state === 'failed' || v.state === 'unready');
  const trouble = troubled ? `replica ${troubled.name} ${troubled.state}: ${troubled.reason}` : undefined;
  const op = d.operation;
  if (op?.aborting) return ['abnormal', `${op.kind} failed, restoring ${d.template.versionId}: ${op.aborting}`];
  if (d.problems.length) return ['abnormal', d.problems.join('; ')];
  if (record.stopped || d.replicas === 0) {
    if (n) return ['stopping', `stopping ${n} replica(s)`];
    return ['stopped', record.stopped ? 'stopped' : 'scaled to 0 replicas'];
  }
  const backingOff =
    backoff && backoff.failures > 0 && backoff.template === d.template.hash ? `backing off after ${backoff.failures} failure(s): ${backoff.reason}` : undefined;
  const updated = replicas.filter((r) => r.template === d.template!.hash && !r.retiring).length;
  const rollingOut = op && ROLLOUT_KINDS.includes(op.kind) && record.deployed && record.deployed.versionId !== undefined;
  if (d.paused) return ['paused', `rollout to ${d.template.versionId} paused: ${updated}/${d.replicas} replica(s) updated, ${ready} ready`];
  if (rollingOut && (updated < d.replicas || ready < d.replicas || replicas.some((r) => r.template !== d.template!.hash)))
    return [
      trouble || backingOff ? 'abnormal' : 'upgrading',
      trouble ?? backingOff ?? `rolling out ${d.template.versionId}: ${ready}/${d.replicas} replica(s) ready`,
    ];
  if (ready >= d.replicas && !trouble) return ['running', `${ready}/${d.replicas} replica(s) ready`];
  if (trouble || backingOff) return ['abnormal', `${ready}/${d.replicas} replica(s) ready; ${trouble ?? backingOff}`];
  if (op?.kind === 'scale') return ['scaling', `scaling to ${d.replicas}: ${ready} ready`];
  return ['starting', `${ready}/${d.replicas} replica(s) ready`];
}

/** The status without what changes by itself (times): published only when this differs. */
export function statusKey(s: StatusView): string {
  return JSON.stringify({ ...s, replicas: s.replicas.map((r) => ({ ...r, probeOutput: '' })) });
}
