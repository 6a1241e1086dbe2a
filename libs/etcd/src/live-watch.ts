import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { EventEmitter } from 'node:events';

/**
 * A watch of a prefix from now on that never dies, for state kept by reading plus watching
 * (mq's wake-ups, event-log's ownership map), where a missed event is repaired by reading
 * again. Events: 'put' and 'delete' (kv), 'resync' (events may have been missed: read the
 * current state again; never for the first connection), 'retry' (err: etcd cancelled the
 * watch and it is being re-created; for logging).
 *
 * etcd3 1.1.2 resumes a watch after a disconnect by itself, but from the revision in the
 * header of its last response: after a quiet spell on the prefix that revision may be
 * compacted, and then etcd cancels the watch, etcd3 emits 'error' and drops the watcher for
 * good. Here such a watch is re-created from the current revision, followed by a resync.
 * etcd3 also takes the resume point from the creation response's header, which is ahead of
 * the events a resumed watch still has to send: a second disconnect in that window skips
 * them, so every reconnect resyncs too.
 */
export class LiveWatch extends EventEmitter<{ put: [IKeyValue]; delete: [IKeyValue]; resync: []; retry: [Error] }> {
  private cancelled = false;
  private current?: Watcher;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly retryMs = 500,
  ) {
    super();
  }

  /** Opens a watcher; resolves once etcd accepted it (or it failed and a retry is scheduled). */
  open(resyncOnConnect: boolean): Promise<void> {
    return new Promise((resolve) => {
      const w = this.client.watch().prefix(this.prefix).watcher();
      this.current = w;
      let disconnected = false;
      let first = true;
      w.on('put', (kv) => this.emit('put', kv));
      w.on('delete', (kv) => this.emit('delete', kv));
      w.on('disconnected', () => (disconnected = true));
      w.on('connected', () => {
        if ((first && resyncOnConnect) || (!first && disconnected)) this.emit('resync');
        first = false;
        disconnected = false;
        resolve();
      });
      w.on('error', (err) => {
        if (this.current !== w) return;
        // etcd3 has dropped it already; cancelling it again makes etcd answer for a watch id
        // etcd3 no longer knows, and etcd3 throws that out of its stream handler (the process dies).
        this.current = undefined;
        this.emit('retry', err);
        resolve(); // a first creation that failed does not block the caller; the retry follows
        if (!this.cancelled) this.timer = setTimeout(() => void this.open(true), this.retryMs);
      });
    });
  }

  async cancel(): Promise<void> {
    this.cancelled = true;
    clearTimeout(this.timer);
    const w = this.current;
    this.current = undefined;
    await w?.cancel().catch(() => undefined);
  }
}

/** Starts a LiveWatch of `prefix`; resolves once etcd accepted it. */
export async function watchLive(client: Etcd3, prefix: string, options: { retryMs?: number } = {}): Promise<LiveWatch> {
  const watch = new LiveWatch(client, prefix, options.retryMs);
  await watch.open(false);
  return watch;
}
