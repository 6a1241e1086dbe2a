/**
 * Extra batching from load: 0 while the streaming thread's event loop is busy less than
 * `from` of the time, rising linearly to maxMs when it is always busy. Below that point a
 * broadcast costs latency only when it waits: with ingest on its own thread the fan-out runs
 * at about half load at 50,000 socket writes/s, and batching then would add its wait to
 * every line while merging few of them. Near saturation, queueing dominates, and fewer,
 * larger messages cut it.
 */
export function loadBatchMs(eventLoopUtilisation: number, maxMs: number, from = 0.75): number {
  const share = Math.max(0, Math.min(1, (eventLoopUtilisation - from) / (1 - from)));
  return Math.round(share * maxMs);
}

/**
 * How long a room's entries wait before one broadcast: small rooms get each commit at once,
 * big rooms batch longer (1,000 watchers x 40 broadcasts/s rather than x 100), load adds to
 * it, and nothing waits longer than maxMs.
 */
export function roomInterval(members: number, s: { emitIntervalMs: number; emitMsPerMember: number; maxEmitIntervalMs: number }, loadMs: number): number {
  return Math.min(s.maxEmitIntervalMs, Math.max(s.emitIntervalMs + loadMs, members * s.emitMsPerMember));
}

/**
 * The wait actually worth taking: batching saves messages only if another commit of the room
 * is likely to arrive within it. A room whose commits come further apart than the interval
 * (its usual gap, gapMs) would send the same number of messages, each later: it sends at once.
 */
export function worthwhileWait(intervalMs: number, gapMs: number): number {
  return gapMs < intervalMs ? intervalMs : 0;
}

/** Exponentially weighted gap between a room's commits (ms); Infinity until there are two. */
export function nextGap(previousGapMs: number, lastAt: number | undefined, now: number, weight = 0.2): number {
  if (lastAt === undefined) return Infinity;
  const gap = now - lastAt;
  return Number.isFinite(previousGapMs) ? previousGapMs + weight * (gap - previousGapMs) : gap;
}
