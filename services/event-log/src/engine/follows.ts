import type { Peer } from '../adapters/peers/peer';
import type { PartitionStore } from '../adapters/storage/partition-store';
import type { FollowSink } from './follow-sink';
import type { Router } from './router';

/**
 * Follows of operations' timelines: entries after a seq, then live ones as they become
 * durable, with no gap and no duplicate. Served by the partition's owner: from the store here,
 * or through the owner's Follow stream. A partition that closes here ends its follows (their
 * subscribers resume from their last seq, wherever the partition went).
 */
export class Follows {
  private readonly local = new Map<number, Set<FollowSink>>();

  constructor(
    private readonly router: Router,
    private readonly pageSize: number,
  ) {}

  /** Returns a cancel. */
  follow(partition: number, eventId: string, afterSeq: number, sink: FollowSink, forwarded: boolean): () => void {
    let cancelled = false;
    let cancelInner: () => void = () => undefined;
    void (async () => {
      const route = await this.router.route(partition, forwarded);
      if (cancelled) return;
      if ('store' in route) cancelInner = this.followLocal(route.store, eventId, afterSeq, sink);
      else cancelInner = this.followRemote(route.peer, eventId, afterSeq, sink);
    })().catch((err) => {
      if (!cancelled) sink.end((err as Error).message);
    });
    return () => {
      cancelled = true;
      cancelInner();
    };
  }

  /** The partition is closing here: its follows end. */
  endPartition(partition: number, reason: string): void {
    const follows = this.local.get(partition);
    this.local.delete(partition);
    for (const f of follows ?? []) f.end(reason);
  }

  private followLocal(store: PartitionStore, eventId: string, afterSeq: number, sink: FollowSink): () => void {
    let cursor = afterSeq;
    let cancelled = false;
    let unlisten: () => void = () => undefined;
    const partition = store.partition;
    let set = this.local.get(partition);
    if (!set) this.local.set(partition, (set = new Set()));
    const tracked: FollowSink = { entries: sink.entries, end: (reason) => (cancel(), sink.end(reason)) };
    set.add(tracked);
    const cancel = () => {
      cancelled = true;
      unlisten();
      this.local.get(partition)?.delete(tracked);
    };
    void (async () => {
      while (!cancelled) {
        const upTo = store.durableSeq(eventId);
        const hot = store.readHot(eventId, cursor, upTo);
        if (hot) {
          // Synchronous from here to listen(): nothing can become durable in between.
          if (hot.length) {
            cursor = hot[hot.length - 1].s;
            sink.entries(hot);
          }
          unlisten = store.listen(eventId, (entries) => {
            const fresh = entries[0].s > cursor ? entries : entries.filter((e) => e.s > cursor);
            if (fresh.length === 0) return;
            cursor = fresh[fresh.length - 1].s;
            sink.entries(fresh);
          });
          return;
        }
        const page = await store.read(eventId, cursor, this.pageSize, upTo);
        if (cancelled) return;
        if (page.length === 0) {
          // Entries up to upTo are gone (retention): continue after them.
          cursor = Math.max(cursor, (store.get(eventId)?.firstSeq ?? 1) - 1, upTo);
          continue;
        }
        cursor = page[page.length - 1].s;
        sink.entries(page);
      }
    })().catch((err) => {
      if (!cancelled) tracked.end((err as Error).message);
    });
    return cancel;
  }

  private followRemote(peer: Peer, eventId: string, afterSeq: number, sink: FollowSink): () => void {
    const controller = new AbortController();
    void (async () => {
      for await (const entries of peer.follow(eventId, afterSeq, controller.signal)) sink.entries(entries);
      sink.end('owner ended the stream');
    })().catch((err) => {
      if (!controller.signal.aborted) sink.end(`owner unavailable: ${(err as Error).message}`);
    });
    return () => controller.abort();
  }
}
