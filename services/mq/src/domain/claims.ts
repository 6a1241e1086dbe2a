import type { mqV1 } from '@wharf/contracts';

export interface ReadyTask {
  taskId: string;
  readyKey: string;
  readyModRevision: string;
  /** Known from a watch event: the claim then needs no read. */
  known?: { record: mqV1.TaskRecord; modRevision: string };
}

/** Who a claimed task goes to. */
export interface ClaimFor {
  leaseMs: number;
  consumer: string;
}

/** etcd allows 128 operations per transaction; a claim costs 3 per task. */
export const MAX_CLAIM_BATCH = 32;

/** The expiry a lease id was issued with (ms since epoch); 0 when unknown, i.e. check the record. */
export function leaseExpiry(leaseId: string): number {
  const m = /^([0-9a-z]{1,12})\./.exec(leaseId);
  return m ? Number.parseInt(m[1], 36) : 0;
}
