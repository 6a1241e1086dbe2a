/**
 * When to compact, defragment and disarm etcd: pure decisions over what the maintainer saw
 * (libs/etcd maintainer.ts runs them). Why each step exists:
 * - etcd keeps every revision until compacted (Debian's etcd 3.4 has auto-compaction off), so
 *   the history grows with every write; a compaction drops superseded revisions before a point.
 * - Compaction frees pages inside the database file but never shrinks it; etcd holds the
 *   file's size against --quota-backend-bytes, so a file that grew near the quota stays there
 *   until a defragmentation rewrites it. Defragmentation blocks the member while it runs: only
 *   when it returns enough, one member at a time, the leader last.
 * - Past the quota etcd raises NOSPACE and refuses every write until someone frees space and
 *   disarms the alarm (it never clears by itself).
 */

export interface MaintenancePolicy {
  /** History kept: a watch away for less than this resumes from etcd's history instead of a full catch-up read. */
  retentionMs: number;
  /** A file above this fraction of the quota is under pressure: history is cut to pressureRetentionMs... */
  pressureFraction: number;
  pressureRetentionMs: number;
  /** ...and a member is defragmented once this fraction of its file is free, at most once per pressureDefragIntervalMs. */
  pressureDefragFreeFraction: number;
  pressureDefragIntervalMs: number;
  /** Without pressure, only a file at least this fraction free... */
  defragFreeFraction: number;
  /** ...with at least this fraction of the quota to gain, at most once per defragIntervalMs per member. */
  defragMinGainOfQuota: number;
  defragIntervalMs: number;
  /** NOSPACE is disarmed once every member's file is below this fraction of the quota (else writes would raise it again at once). */
  disarmBelowFraction: number;
}

export function defaultMaintenancePolicy(retentionMs = 10 * 60_000): MaintenancePolicy {
  return {
    retentionMs,
    pressureFraction: 0.5,
    pressureRetentionMs: Math.floor(retentionMs / 10),
    pressureDefragFreeFraction: 0.25,
    pressureDefragIntervalMs: 60_000,
    defragFreeFraction: 0.5,
    defragMinGainOfQuota: 0.1,
    defragIntervalMs: 10 * 60_000,
    disarmBelowFraction: 0.8,
  };
}

export interface MemberObservation {
  endpoint: string;
  memberId: string;
  isLeader: boolean;
  dbSizeBytes: number;
  dbSizeInUseBytes: number;
}

export interface Observation {
  nowMs: number;
  /** The cluster's current revision. */
  revision: bigint;
  /** The members that answered. */
  members: MemberObservation[];
  nospace: boolean;
  quotaBytes: number;
}

/** What the maintainer remembers between ticks (in memory: a new leader starts afresh). */
export interface MaintenanceMemory {
  /** The revision seen at each tick, oldest first: "the revision of retentionMs ago". */
  samples: { atMs: number; revision: bigint }[];
  compactedRevision: bigint;
  /** Compactions done so far: a member defragmented after the last one has nothing new to return. */
  compactions: number;
  /** By endpoint: when, and after how many compactions. */
  defragmented: Record<string, { atMs: number; afterCompactions: number }>;
}

export const emptyMemory = (): MaintenanceMemory => ({ samples: [], compactedRevision: 0n, compactions: 0, defragmented: {} });

export type MaintenanceAction =
  { kind: 'compact'; revision: bigint; reason: string } | { kind: 'defragment'; endpoint: string; reason: string } | { kind: 'disarm'; reason: string };

export interface MaintenancePlan {
  action?: MaintenanceAction;
  /** Something an operator must act on (the maintainer cannot); the same text while the state lasts. */
  warning?: string;
}

const MAX_SAMPLES = 1000;

/** Records the revision of this tick and forgets samples no rule can use any more. */
export function recordSample(memory: MaintenanceMemory, atMs: number, revision: bigint, policy: MaintenancePolicy): MaintenanceMemory {
  const samples = [...memory.samples, { atMs, revision }];
  // Keep the newest sample older than the retention (the next compaction point) and all newer ones.
  const cutoff = atMs - policy.retentionMs;
  let first = 0;
  while (first + 1 < samples.length && samples[first + 1].atMs <= cutoff) first++;
  return { ...memory, samples: samples.slice(Math.max(first, samples.length - MAX_SAMPLES)) };
}

/** The newest revision seen at least `ageMs` ago. */
function revisionAged(memory: MaintenanceMemory, nowMs: number, ageMs: number): bigint | undefined {
  let found: bigint | undefined;
  for (const s of memory.samples) if (s.atMs <= nowMs - ageMs) found = s.revision;
  return found;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** The next maintenance step, or none. Called again after each step with a fresh observation. */
export function planMaintenance(obs: Observation, memory: MaintenanceMemory, policy: MaintenancePolicy): MaintenancePlan {
  if (obs.members.length === 0) return {};
  const largest = Math.max(...obs.members.map((m) => m.dbSizeBytes));
  const pressure = largest >= policy.pressureFraction * obs.quotaBytes;

  // 1. Compaction.
  const target = obs.nospace
    ? obs.revision // every write is refused: all history goes (behind watches catch up by reading)
    : revisionAged(memory, obs.nowMs, pressure ? policy.pressureRetentionMs : policy.retentionMs);
  if (target !== undefined && target > memory.compactedRevision) {
    const reason = obs.nospace
      ? 'NOSPACE raised: dropping all history'
      : pressure
        ? `database ${mib(largest)} is over ${policy.pressureFraction * 100}% of the ${mib(obs.quotaBytes)} quota: keeping ${policy.pressureRetentionMs} ms of history`
        : `keeping ${policy.retentionMs} ms of history`;
    return { action: { kind: 'compact', revision: target, reason } };
  }

  // 2. Defragmentation: one member per step, followers before the leader (a leader blocked by
  // its defragmentation stalls every write), the most to gain first.
  const worth = (m: MemberObservation): string | undefined => {
    const last = memory.defragmented[m.endpoint];
    // Only compaction frees pages (a deleted key's old revisions are history too): after a
    // defragmentation with no compaction since, there is nothing new to return.
    if (last && last.afterCompactions >= memory.compactions) return undefined;
    const free = Math.max(0, m.dbSizeBytes - m.dbSizeInUseBytes);
    const since = obs.nowMs - (last?.atMs ?? -Infinity);
    // After a compaction the in-use figure lags; under NOSPACE every member is rewritten anyway.
    if (obs.nospace) return 'NOSPACE raised';
    if (pressure && free >= policy.pressureDefragFreeFraction * m.dbSizeBytes && since >= policy.pressureDefragIntervalMs)
      return `${mib(free)} of ${mib(m.dbSizeBytes)} free under quota pressure`;
    if (free >= policy.defragFreeFraction * m.dbSizeBytes && free >= policy.defragMinGainOfQuota * obs.quotaBytes && since >= policy.defragIntervalMs)
      return `${mib(free)} of ${mib(m.dbSizeBytes)} free`;
    return undefined;
  };
  const candidates = obs.members
    .map((m) => ({ m, reason: worth(m) }))
    .filter((c): c is { m: MemberObservation; reason: string } => c.reason !== undefined)
    .sort((a, b) => Number(a.m.isLeader) - Number(b.m.isLeader) || b.m.dbSizeBytes - b.m.dbSizeInUseBytes - (a.m.dbSizeBytes - a.m.dbSizeInUseBytes));
  if (candidates.length > 0) return { action: { kind: 'defragment', endpoint: candidates[0].m.endpoint, reason: candidates[0].reason } };

  // 3. NOSPACE: disarm once space is back, else say why not.
  if (obs.nospace) {
    if (largest < policy.disarmBelowFraction * obs.quotaBytes) {
      return { action: { kind: 'disarm', reason: `largest database ${mib(largest)} is below ${policy.disarmBelowFraction * 100}% of the quota` } };
    }
    return {
      warning: `etcd is full of live data after compaction and defragmentation (over ${policy.disarmBelowFraction * 100}% of the ${mib(obs.quotaBytes)} quota): raise --quota-backend-bytes or remove data; NOSPACE stays raised`,
    };
  }
  return {};
}

/** The memory after an action succeeded. */
export function afterAction(memory: MaintenanceMemory, action: MaintenanceAction, nowMs: number): MaintenanceMemory {
  switch (action.kind) {
    case 'compact':
      return { ...memory, compactedRevision: action.revision, compactions: memory.compactions + 1 };
    case 'defragment':
      return { ...memory, defragmented: { ...memory.defragmented, [action.endpoint]: { atMs: nowMs, afterCompactions: memory.compactions } } };
    case 'disarm':
      return memory;
  }
}
