/** 32-bit FNV-1a of the event id: the partition is hash mod N (stable across instances and restarts). */
export function partitionOf(eventId: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < eventId.length; i++) {
    h ^= eventId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}
