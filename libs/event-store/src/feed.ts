import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { prefixEnd } from './prefix';
import type { FeedPosition, RecordedEvent, Subscription } from './types';

const PAGE = 500;

const backoffMs = (failures: number) => Math.min(1000, 50 * 2 ** Math.min(failures, 5));

/** Thrown by the handler (or the decoder): stops the subscription; feed failures are retried instead. */
class HandlerFailure extends Error {
  constructor(override readonly cause: unknown) {
    super(`feed handler failed: ${(cause as Error)?.message ?? cause}`);
  }
}

/**
 * The global feed from a position: catch-up by reading every key of the prefix (paged by key,
 * filtered to position < mod_revision <= H, the revision of the first page, sorted by
 * revision then key), then a watch from H+1. After a disconnect the watch is opened again
 * from the last delivered revision; when etcd has compacted that revision away (it cancels
 * the watch), a new catch-up read starts from the last delivered event. Delivered (revision,
 * key) pairs are never delivered again, so there is no gap and no duplicate.
 */
export class FeedSubscription implements Subscription {
  position: FeedPosition;
  readonly caughtUp: Promise<void>;
  live = false;
  private markCaughtUp!: () => void;
  /** Every event with a revision <= doneRev was delivered. */
  private doneRev: bigint;
  /** Of revision partialRev, the events with keys <= partialKey were delivered. */
  private partialRev = -1n;
  private partialKey = '';
  private closed = false;
  private watcher?: Watcher;
  private wake?: () => void;
  private readonly done: Promise<void>;

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    from: FeedPosition,
    private readonly handler: (event: RecordedEvent) => void | Promise<void>,
    private readonly decode: (bytes: Uint8Array, position: string) => RecordedEvent,
    private readonly onError?: (err: Error) => void,
    private readonly onProgress?: (position: FeedPosition) => void,
  ) {
    this.position = from;
    this.doneRev = BigInt(from);
    this.caughtUp = new Promise((resolve) => (this.markCaughtUp = resolve));
    this.done = this.run();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.(); // the running watch (or back-off) ends and cancels its watcher
    await this.done;
  }

  private async run(): Promise<void> {
    let failures = 0;
    let catchUp = true;
    while (!this.closed) {
      try {
        if (catchUp) {
          await this.catchUp();
          this.markCaughtUp();
          catchUp = false;
        }
        const ended = await this.follow();
        catchUp = ended.compacted;
        if (ended.connected) failures = 0;
        else await this.sleep(backoffMs(++failures)); // etcd unreachable: do not reconnect in a hot loop
      } catch (err) {
        if (err instanceof HandlerFailure) {
          this.closed = true;
          this.onError?.(err);
          return;
        }
        // etcd unavailable: back off and go on from the last delivered event.
        await this.sleep(backoffMs(++failures));
      }
    }
  }

  private async deliver(kv: IKeyValue): Promise<void> {
    const rev = BigInt(kv.mod_revision);
    const key = kv.key.toString();
    if (rev <= this.doneRev || (rev === this.partialRev && key <= this.partialKey)) return; // already delivered
    try {
      await this.handler(this.decode(kv.value, String(rev)));
    } catch (err) {
      throw new HandlerFailure(err);
    }
    // Revisions arrive in order, so every earlier one is complete.
    if (rev - 1n > this.doneRev) this.doneRev = rev - 1n;
    this.partialRev = rev;
    this.partialKey = key;
  }

  /** Marks every revision up to rev as fully delivered. */
  private complete(rev: bigint): void {
    if (rev > this.doneRev) this.doneRev = rev;
    this.position = String(this.doneRev);
    this.onProgress?.(this.position);
  }

  /** Delivers everything up to the current revision. */
  private async catchUp(): Promise<void> {
    let head: bigint | undefined;
    const pending: IKeyValue[] = [];
    let start = Buffer.from(this.prefix);
    for (;;) {
      // Pages are read at the latest revision, not at the first page's: a read pinned to a
      // revision fails once a compaction passes it, and a long catch-up would then start over
      // and over. Events are written once and never change or go away, so keeping those with
      // mod_revision <= head gives exactly what a read at head gives; later ones come by the watch.
      const res = await this.client.kv.range({ key: start, range_end: prefixEnd(this.prefix), limit: PAGE });
      head ??= BigInt(res.header.revision);
      for (const kv of res.kvs) {
        const rev = BigInt(kv.mod_revision);
        if (rev > this.doneRev && rev <= head) pending.push(kv);
      }
      if (!res.more || res.kvs.length === 0) break;
      start = Buffer.concat([res.kvs[res.kvs.length - 1].key, Buffer.from([0])]);
    }
    pending.sort((a, b) => {
      const d = BigInt(a.mod_revision) - BigInt(b.mod_revision);
      return d !== 0n ? (d < 0n ? -1 : 1) : Buffer.compare(a.key, b.key);
    });
    for (const kv of pending) {
      if (this.closed) break;
      await this.deliver(kv);
    }
    if (!this.closed) this.complete(head);
  }

  /**
   * Follows a watch from the last delivered revision until it ends: closed, disconnected
   * (connected says whether it ever got through), or cancelled by etcd because that revision
   * was compacted (compacted: the caller reads to catch up).
   *
   * etcd3 would resume a disconnected watch by itself, but from the revision in the header of
   * the creation response, which is ahead of the events the watch still had to send: a second
   * disconnect then skips them. So a disconnect ends this watch and a new one starts from what
   * was delivered.
   */
  private async follow(): Promise<{ connected: boolean; compacted: boolean }> {
    const watcher = this.client
      .watch()
      .prefix(this.prefix)
      .startRevision(String(this.doneRev + 1n))
      .watcher();
    this.watcher = watcher;
    let chain = Promise.resolve();
    let failure: unknown;
    let connected = false;
    let compacted = false;
    let ended = false;
    await new Promise<void>((resolve) => {
      // Once ended, this watcher delivers nothing more, even if etcd3 reattached it meanwhile:
      // the next watch starts from what was delivered, and a late delivery here would skip ahead.
      const end = () => ((ended = true), resolve());
      if (this.closed) return end();
      this.wake = end;
      // live: following etcd's watch right now (readiness: a read model that is not live may lag).
      watcher.on('connected', () => (connected = this.live = true));
      watcher.on('data', (res) => {
        chain = chain.then(async () => {
          if (this.closed || ended) return;
          try {
            for (const ev of res.events) if (ev.type === 'Put') await this.deliver(ev.kv);
            // A watch response carries whole revisions: the position may move past them. One
            // without events is a progress notification: every event up to its revision was sent.
            const last = res.events.at(-1);
            this.complete(BigInt(last ? last.kv.mod_revision : res.header.revision));
          } catch (err) {
            failure = err;
            end();
          }
        });
      });
      watcher.on('error', () => {
        // etcd cancelled the watch (its start revision was compacted). etcd3 has dropped the
        // watcher: cancelling it again would make etcd answer for a watch id etcd3 no longer
        // knows, which etcd3 throws out of its stream handler.
        compacted = true;
        if (this.watcher === watcher) this.watcher = undefined;
        end();
      });
      watcher.on('disconnected', () => ((this.live = false), end()));
      watcher.on('end', end);
    });
    this.live = false;
    await chain;
    if (this.watcher === watcher) {
      this.watcher = undefined;
      await watcher.cancel().catch(() => undefined);
    }
    if (failure) throw failure;
    return { connected, compacted };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => (clearTimeout(timer), resolve());
    });
  }
}
