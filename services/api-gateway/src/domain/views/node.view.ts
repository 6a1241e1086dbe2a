import { allowedActions, type NodeView } from '@wharf/nodes';

const num = (v: bigint | undefined) => (v === undefined ? null : Number(v));

/** A node as the API shows it: its lifecycle (stream) and, while its node-manager reports, its heartbeat. */
export function nodeView(n: NodeView, nowMs: number) {
  const { record: r, heartbeat: hb } = n;
  const resources = (x: { cpuMillis: bigint; memoryBytes: bigint; diskBytes: bigint } | undefined) =>
    x ? { cpu_millis: num(x.cpuMillis), memory_bytes: num(x.memoryBytes), disk_bytes: num(x.diskBytes) } : null;
  return {
    id: r.id,
    address: r.address,
    state: r.state,
    cordoned: r.cordoned,
    roles: r.roles,
    labels: r.labels,
    version: r.version,
    registered_at_ms: r.registeredMs,
    allowed_actions: allowedActions(r.state),
    heartbeat: hb
      ? {
          alive: true,
          time_ms: num(hb.timeMs),
          age_ms: Math.max(0, nowMs - Number(hb.timeMs)),
          started_at_ms: num(hb.startedMs),
          runtime: hb.runtime,
          lease_ttl_s: hb.leaseTtlS,
        }
      : { alive: false },
    capacity: resources(hb?.capacity),
    usage: resources(hb?.usage),
    conditions: (hb?.conditions ?? []).map((c) => ({ type: c.type, ok: c.ok, message: c.message, last_change_ms: num(c.lastChangeMs) })),
    transitions: r.transitions.map((t) => ({ action: t.action, from: t.from, to: t.to, reason: t.reason, actor: t.actor, at_ms: t.timeMs })),
  };
}
