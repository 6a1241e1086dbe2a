import type { Etcd3, IKeyValue, Watcher } from 'etcd3';

export interface LiveWatchHandlers {
  put?(kv: IKeyValue): void;
  delete?(kv: IKeyValue): void;
  /**
   * Events may have been missed: read the current state again. Called after the watch came
   * back from a disconnect or was re-created (never for the first connection).
   */
  resync?(): void;
  /** The watch failed and is being re-created (logging only). */
  error?(err: Error): void;
}

export interface LiveWatch {
  cancel(): Promise<void>;
}

/**
 * A watch of a prefix from now on that never dies, for state kept by reading plus watching
 * (mq's wake-ups, event-log's ownership map), where a missed event is repaired by reading
 * again. etcd3 1.1.2 resumes a watch after a disconnect by itself, but from the revision in
 * the header of its last response: after a long quiet spell on the prefix that revision may be
 * compacted, and then etcd cancels the watch, etcd3 emits 'error' and the watcher is gone for
 * good. Here such a watch is re-created from the current revision and the caller resyncs.
 * etcd3 also takes the resume point from the creation response's header, which is ahead of
 * the events a resumed watch still has to send: a second disconnect in that window skips them,
 * so every reconnect resyncs too.
 */
export async function watchLive(client: Etcd3, prefix: string, handlers: LiveWatchHandlers, options: { retryMs?: number } = {}): Promise<LiveWatch> {
  const retryMs = options.retryMs ?? 500;
  let cancelled = false;
  let current: Watcher | undefined;
  let retry: NodeJS.Timeout | undefined;

  const open = (resyncOnConnect: boolean): Promise<void> =>
    new Promise((resolve) => {
      const w = client.watch().prefix(prefix).watcher();
      current = w;
      let disconnected = false;
      let first = true;
      w.on('put', (kv) => handlers.put?.(kv));
      w.on('delete', (kv) => handlers.delete?.(kv));
      w.on('disconnected', () => (disconnected = true));
      w.on('connected', () => {
        if ((first && resyncOnConnect) || (!first && disconnected)) handlers.resync?.();
        first = false;
        disconnected = false;
        resolve();
      });
      w.on('error', (err) => {
        if (current !== w) return;
        handlers.error?.(err);
        // etcd3 has dropped it already; cancelling it again makes etcd answer for a watch id
        // etcd3 no longer knows, and etcd3 throws that out of its stream handler (the process dies).
        current = undefined;
        resolve(); // a first creation that failed does not block the caller; the retry follows
        if (!cancelled) retry = setTimeout(() => void open(true), retryMs);
      });
    });

  await open(false);
  return {
    async cancel() {
      cancelled = true;
      clearTimeout(retry);
      const w = current;
      current = undefined;
      await w?.cancel().catch(() => undefined);
    },
  };
}
