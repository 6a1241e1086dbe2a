/** The health conditions every node reports, in this order. */
export const CONDITION_TYPES = ['runtime_reachable', 'disk_pressure', 'memory_pressure', 'etcd_reachable', 'clock_skew'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

/** One condition as the node reports it: last_change moves only when ok flips; streak counts outcomes in a row. */
export interface Condition {
  type: ConditionType;
  ok: boolean;
  message: string;
  lastChangeMs: number;
  streak: number;
}

/** What one round of checks saw: each condition ok or not, with words. */
export type Observation = Record<ConditionType, { ok: boolean; message: string }>;

/** Folds a round of observations into the conditions (pure). */
export function nextConditions(previous: readonly Condition[], observed: Observation, nowMs: number): Condition[] {
  return CONDITION_TYPES.map((type) => {
    const before = previous.find((c) => c.type === type);
    const o = observed[type];
    if (!before || before.ok !== o.ok) return { type, ok: o.ok, message: o.message, lastChangeMs: nowMs, streak: 1 };
    return { type, ok: o.ok, message: o.message, lastChangeMs: before.lastChangeMs, streak: before.streak + 1 };
  });
}

/**
 * The conditions that fail the node: failing for `failAfter` rounds in a row (one bad sample is
 * not a failed machine). etcd_reachable never does: a node that cannot reach etcd cannot write
 * its failure either; its heartbeat lease expires and the lease watcher marks it.
 */
export function failingConditions(conditions: readonly Condition[], failAfter: number): Condition[] {
  return conditions.filter((c) => !c.ok && c.streak >= failAfter && c.type !== 'etcd_reachable');
}

/** One line naming what fails, for the transition's reason. */
export function describeFailure(failing: readonly Condition[]): string {
  return failing.map((c) => `condition ${c.type} failing: ${c.message}`).join('; ');
}

export interface Thresholds {
  diskPressurePct: number;
  memoryPressurePct: number;
  clockSkewMs: number;
}

export interface Sample {
  runtime: { ok: true; detail: string } | { ok: false; error: string };
  disk: { totalBytes: number; availableBytes: number; path: string } | { error: string };
  memory: { totalBytes: number; availableBytes: number };
  etcd: { ok: true } | { ok: false; error: string };
  /** Local clock minus the reference clock, ms; error when the reference could not be read. */
  skew: { ms: number; reference: string } | { error: string };
}

const pct = (used: number, total: number) => (total > 0 ? Math.round((used / total) * 1000) / 10 : 0);

/** Turns raw readings into observations against the thresholds (pure). */
export function observe(s: Sample, t: Thresholds): Observation {
  const disk =
    'error' in s.disk
      ? { ok: false, message: `cannot read the disk: ${s.disk.error}` }
      : (() => {
          const used = pct(s.disk.totalBytes - s.disk.availableBytes, s.disk.totalBytes);
          return { ok: used < t.diskPressurePct, message: `${used}% of ${s.disk.path} used (pressure at ${t.diskPressurePct}%)` };
        })();
  const memUsed = pct(s.memory.totalBytes - s.memory.availableBytes, s.memory.totalBytes);
  const skew =
    'error' in s.skew
      ? { ok: false, message: `cannot read the reference clock: ${s.skew.error}` }
      : { ok: Math.abs(s.skew.ms) <= t.clockSkewMs, message: `${s.skew.ms} ms against ${s.skew.reference} (at most ${t.clockSkewMs} ms)` };
  return {
    runtime_reachable: s.runtime.ok ? { ok: true, message: s.runtime.detail } : { ok: false, message: s.runtime.error },
    disk_pressure: disk,
    memory_pressure: { ok: memUsed < t.memoryPressurePct, message: `${memUsed}% of memory used (pressure at ${t.memoryPressurePct}%)` },
    etcd_reachable: s.etcd.ok ? { ok: true, message: 'etcd answers' } : { ok: false, message: s.etcd.error },
    clock_skew: skew,
  };
}
