import type { appmanagerV1 } from '@wharf/contracts';

/** The JSON of a component's runtime status (snake_case like the rest of the API). */
export function runtimeStatusView(componentId: string, s: appmanagerV1.ComponentStatus | undefined) {
  if (!s)
    return {
      component_id: componentId,
      state: 'unknown',
      reason: 'app-manager has not reported this component yet',
      version_id: null,
      target_version_id: null,
      desired_replicas: 0,
      ready_replicas: 0,
      operation_event_id: null,
      replicas: [],
      changed_at_ms: null,
      runtime: null,
    };
  return {
    component_id: componentId,
    state: s.state,
    reason: s.reason,
    version_id: s.versionId || null,
    target_version_id: s.targetVersionId || null,
    desired_replicas: s.desiredReplicas,
    ready_replicas: s.readyReplicas,
    operation_event_id: s.operationEventId || null,
    replicas: s.replicas.map(replicaView),
    changed_at_ms: Number(s.changedAtMs),
    runtime: s.runtime,
  };
}

function replicaView(r: appmanagerV1.ReplicaStatus) {
  return {
    name: r.name,
    slot: r.slot,
    version_id: r.versionId,
    state: r.state,
    reason: r.reason,
    restarts: r.restarts,
    node: r.node,
    address: r.address,
    started_at_ms: r.startedAtMs ? Number(r.startedAtMs) : null,
    probe_output: r.probeOutput,
  };
}
