import { performance } from 'node:perf_hooks';
import type { EntryRecord } from '../domain/records';
import { roomSpacing, throttleWait, type SpacingSettings } from './emit-batching';

/** What a room needs of the gateway that holds it. */
export interface RoomHost {
  readonly settings: SpacingSettings & { roomRecent: number };
  /** Current extra spacing from load. */
  readonly loadBatchMs: number;
  /** Broadcast this room at the end of this event-loop turn (with every other room due). */
  flushSoon(room: Room): void;
  broadcast(room: Room, batch: EntryRecord[]): void;
}

/**
 * One broadcast group per operation followed through this instance. It follows the operation
 * once (from the engine on the ingest thread: local partition or the owner's stream) and
 * broadcasts each batch to every joined socket, encoded once. A socket joins only when it has
 * been sent everything up to `emittedSeq`, so from then on it gets exactly the room's
 * broadcasts: no gap, no duplicate.
 */
export class Room {
  readonly name: string;
  emittedSeq: number;
  readonly recent: EntryRecord[] = [];
  private pending: EntryRecord[] = [];
  private timer?: NodeJS.Timeout;
  private lastBroadcastAt = -Infinity;
  members = 0;
  closed = false;
  cancel: () => void = () => undefined;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly eventId: string,
    startSeq: number,
    private readonly host: RoomHost,
  ) {
    this.name = `op:${eventId}`;
    this.emittedSeq = startSeq;
  }

  push(entries: EntryRecord[]): void {
    for (const e of entries) this.pending.push(e);
    if (this.timer) return;
    const wait = throttleWait(roomSpacing(this.members, this.host.settings, this.host.loadBatchMs), performance.now() - this.lastBroadcastAt);
    if (wait <= 0) this.host.flushSoon(this);
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.emittedSeq = batch[batch.length - 1].s;
    this.lastBroadcastAt = performance.now();
    for (const e of batch) this.recent.push(e);
    const keep = this.host.settings.roomRecent;
    if (this.recent.length > keep * 2) this.recent.splice(0, this.recent.length - keep);
    this.host.broadcast(this, batch);
    for (const w of [...this.waiters]) w();
  }

  /** Resolves when more has been broadcast (or the room closed). */
  advanced(): Promise<void> {
    return new Promise((resolve) => {
      const w = () => (this.waiters.delete(w), resolve());
      this.waiters.add(w);
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.cancel();
    for (const w of [...this.waiters]) w();
  }
}
