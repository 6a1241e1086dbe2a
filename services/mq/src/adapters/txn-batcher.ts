import type { Etcd3, ICompare, IRequestOp } from 'etcd3';

interface Pending {
  compare: ICompare[];
  success: IRequestOp[];
  keys: string[];
  bytes: number;
  resolve: (ok: boolean) => void;
  reject: (err: unknown) => void;
}

/** etcd's default --max-txn-ops is 128 for each of compare, success and failure. */
const MAX_OPS = 120;
/** etcd refuses requests over --max-request-bytes (1.5 MiB by default); stay well under it. */
export const MAX_TXN_BYTES = 1024 * 1024;

const sizeOf = (op: IRequestOp) => (op.request_put?.key?.length ?? 0) + (op.request_put?.value?.length ?? 0) + 64;

const keyOf = (op: IRequestOp) => (op.request_put?.key ?? op.request_delete_range?.key ?? Buffer.alloc(0)).toString();

/**
 * Coalesces independent guarded writes issued in the same tick (concurrent Enqueue or Ack
 * calls) into one etcd transaction: one raft proposal and one fsync instead of many. If
 * any guard fails the combined transaction writes nothing, and each write is then tried on
 * its own, so every caller gets exactly the answer it would have had alone.
 */
export class TxnBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;

  /**
   * @param maxInFlight transactions sent and not yet answered; writes arriving meanwhile wait
   *   and go together in the next one (group commit): under load fewer, larger transactions,
   *   when idle no added delay.
   */
  constructor(
    private readonly client: Etcd3,
    private readonly maxInFlight = 2,
  ) {}

  submit(compare: ICompare[], success: IRequestOp[]): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ compare, success, keys: success.map(keyOf), bytes: success.reduce((n, op) => n + sizeOf(op), 0), resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.inFlight >= this.maxInFlight) return; // the next completion flushes
    const pending = this.queue;
    this.queue = [];
    // Split into batches within etcd's limits, never touching one key twice in a batch.
    let batch: Pending[] = [];
    let ops = 0;
    let compares = 0;
    let bytes = 0;
    let keys = new Set<string>();
    const batches: Pending[][] = [];
    for (const p of pending) {
      const clash = p.keys.some((k) => keys.has(k));
      if (batch.length > 0 && (clash || ops + p.success.length > MAX_OPS || compares + p.compare.length > MAX_OPS || bytes + p.bytes > MAX_TXN_BYTES)) {
        batches.push(batch);
        batch = [];
        ops = 0;
        compares = 0;
        bytes = 0;
        keys = new Set();
      }
      batch.push(p);
      ops += p.success.length;
      compares += p.compare.length;
      bytes += p.bytes;
      p.keys.forEach((k) => keys.add(k));
    }
    if (batch.length > 0) batches.push(batch);
    for (const b of batches) {
      this.inFlight++;
      void this.commit(b).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0 && !this.scheduled) this.flush();
      });
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    try {
      const all = await this.client.kv.txn({ compare: batch.flatMap((p) => p.compare), success: batch.flatMap((p) => p.success), failure: [] });
      if (all.succeeded || batch.length === 1) {
        for (const p of batch) p.resolve(all.succeeded);
        return;
      }
    } catch (err) {
      if (batch.length === 1) {
        batch[0].reject(err);
        return;
      }
    }
    await Promise.all(
      batch.map(async (p) => {
        try {
          p.resolve((await this.client.kv.txn({ compare: p.compare, success: p.success, failure: [] })).succeeded);
        } catch (err) {
          p.reject(err);
        }
      }),
    );
  }
}
