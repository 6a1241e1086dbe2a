/** Busy and total CPU time of every core, from os.cpus() (ms). */
export interface CpuTimes {
  busyMs: number;
  totalMs: number;
  cores: number;
}

export function cpuTimes(cpus: { times: { user: number; nice: number; sys: number; idle: number; irq: number } }[]): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const c of cpus) {
    const t = c.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busyMs: busy, totalMs: total, cores: cpus.length };
}

/** CPU in use between two readings, in millicores (cores x share of busy time); 0 without a previous reading. */
export function cpuMillisUsed(before: CpuTimes | undefined, after: CpuTimes): number {
  if (!before) return 0;
  const total = after.totalMs - before.totalMs;
  if (total <= 0) return 0;
  const share = Math.min(1, Math.max(0, (after.busyMs - before.busyMs) / total));
  return Math.round(share * after.cores * 1000);
}
