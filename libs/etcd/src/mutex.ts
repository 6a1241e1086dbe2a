import { EtcdLockFailedError, type Etcd3 } from 'etcd3';

export interface EtcdMutexOptions {
  /** Lease of a held lock: a holder that dies frees it after this many seconds. */
  ttlS?: number;
  /** How long to wait for a lock another holder has before giving up. */
  waitMs?: number;
  /** Pause between attempts while it is held. */
  retryMs?: number;
}

/** Runs work while holding one etcd key; the same key in another process waits its turn. */
export type KeyedMutex = <T>(key: string, work: () => Promise<T>) => Promise<T>;

/**
 * A mutex across processes on etcd3's Lock (a create-only key on a lease). etcd3's lock fails at
 * once when the key is held; this waits (bounded) for it instead, so callers see a slow call,
 * not an error, while another process does the same thing.
 */
export function etcdMutex(client: Etcd3, options: EtcdMutexOptions = {}): KeyedMutex {
  const ttlS = options.ttlS ?? 10;
  const waitMs = options.waitMs ?? 30_000;
  const retryMs = options.retryMs ?? 50;
  return async <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const lock = client.lock(key).ttl(ttlS);
      try {
        await lock.acquire();
      } catch (err) {
        if (!(err instanceof EtcdLockFailedError) || Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, retryMs));
        continue;
      }
      try {
        return await work();
      } finally {
        await lock.release().catch(() => undefined); // the lease frees it anyway
      }
    }
  };
}
