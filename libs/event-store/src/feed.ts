import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { prefixEnd } from './prefix';
import type { FeedPosition, RecordedEvent, Subscription } from './types';

const PAGE = 500;

/** Thrown by the handler (or the decoder): stops the subscription; feed failures are retried instead. */
class HandlerFailure extends Error {
  constructor(override readonly cause: unknown) {
    super(`feed handler failed: ${(cause as Error)?.message ?? cause}`);
  }
}

/**
 * The global feed from a position: catch-up by reading every key of the prefix at one
 * revision H (paged by key, filtered to mod_revision > position, sorted by revision then
 * key), then a watch from H+1. Any watch failure (etcd restart, compaction) falls back to
 * a new catch-up from the last delivered event, and delivered (revision, key) pairs are
 * never delivered again, so there is no gap and no duplicate.
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
    this.wake?.();
    await this.watcher?.cancel().catch(() => undefined);
    await this.done;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      try {
        const head = await this.catchUp();
        this.markCaughtUp();
        failures = 0;
        await this.follow(head);
      } catch (err) {
        if (err instanceof HandlerFailure) {
          this.closed = true;
          this.onError?.(err);
          return;
        }
        // etcd unavailable: back off and catch up again from the last delivered event.
        failures++;
        await this.sleep(Math.min(1000, 50 * 2 ** Math.min(failures, 5)));
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

  /** Delivers everything up to the current revision; returns that revision. */
  private async catchUp(): Promise<bigint> {
    let head: bigint | undefined;
    const pending: IKeyValue[] = [];
    let start = Buffer.from(this.prefix);
    for (;;) {
      const res = await this.client.kv.range({ key: start, range_end: prefixEnd(this.prefix), limit: PAGE, ...(head ? { revision: String(head) } : {}) });
      head ??= BigInt(res.header.revision);
      for (const kv of res.kvs) if (BigInt(kv.mod_revision) > this.doneRev) pending.push(kv);
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
    return head;
  }

  /** Follows the watch from head+1 until it fails (returns to catch-up) or the subscription closes. */
  private async follow(head: bigint): Promise<void> {
    const watcher = await this.client
      .watch()
      .prefix(this.prefix)
      .startRevision(String(head + 1n))
      .create();
    this.watcher = watcher;
    // etcd3 re-creates a broken watch itself, from the last revision it saw: live follows it.
    this.live = true;
    watcher.on('disconnected', () => (this.live = false));
    watcher.on('connected', () => (this.live = true));
    if (this.closed) {
      // close() ran while the watch was being created.
      await watcher.cancel().catch(() => undefined);
      return;
    }
    let chain = Promise.resolve();
    let failure: unknown;
    const ended = new Promise<void>((resolve) => {
      this.wake = resolve;
      watcher.on('data', (res) => {
        chain = chain.then(async () => {
          if (this.closed || failure) return;
          try {
            for (const ev of res.events) if (ev.type === 'Put') await this.deliver(ev.kv);
            // A watch response carries whole revisions: the position may move past them.
            const last = res.events.at(-1);
            if (last) this.complete(BigInt(last.kv.mod_revision));
          } catch (err) {
            failure = err;
            resolve();
          }
        });
      });
      // etcd3 re-creates the watch itself after a disconnect, from the last revision it saw;
      // an 'error' (e.g. compacted revision) ends it, and we catch up instead.
      watcher.on('error', (err) => {
        failure ??= err;
        resolve();
      });
      watcher.on('end', () => resolve());
    });
    await ended;
    this.live = false;
    await chain;
    this.watcher = undefined;
    await watcher.cancel().catch(() => undefined);
    if (failure) throw failure;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => (clearTimeout(timer), resolve());
    });
  }
}
