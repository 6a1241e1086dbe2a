/**
 * Extra spacing between a room's broadcasts from load: 0 while the streaming thread's event
 * loop is busy less than `from` of the time, rising linearly to maxMs when it is always busy.
 * With ingest on its own thread the fan-out runs near half load at 50,000 socket writes/s;
 * near saturation queueing dominates, and fewer, larger messages cut it.
 */
export function loadBatchMs(eventLoopUtilisation: number, maxMs: number, from = 0.75): number {
  const share = Math.max(0, Math.min(1, (eventLoopUtilisation - from) / (1 - from)));
  return Math.round(share * maxMs);
}

/** How far apart a room's broadcasts are. */
export interface SpacingSettings {
  /** Least time between two broadcasts of one operation; entries that come sooner wait for the next (0 = each commit at once)... */
  emitIntervalMs: number;
  /** ... or this much per watcher of the operation on this instance, if that is longer ... */
  emitMsPerMember: number;
  /** ... but never longer than this. */
  maxEmitIntervalMs: number;
}

/**
 * The least time between two broadcasts of one room: small rooms may send each commit, big
 * rooms send less often (1,000 watchers x 40 broadcasts/s rather than x 100), load adds to it,
 * and it never exceeds maxMs.
 */
export function roomSpacing(members: number, s: SpacingSettings, loadMs: number): number {
  return Math.min(s.maxEmitIntervalMs, Math.max(s.emitIntervalMs + loadMs, members * s.emitMsPerMember));
}

/**
 * How long entries that just arrived wait: none if the room's last broadcast is at least
 * `spacing` ago, else until then (a leading-edge throttle). A quiet room's first entry goes out
 * at once; a busy room sends at most one message per spacing, with everything that came since.
 */
export function throttleWait(spacingMs: number, sinceLastBroadcastMs: number): number {
  return sinceLastBroadcastMs >= spacingMs ? 0 : spacingMs - sinceLastBroadcastMs;
}
