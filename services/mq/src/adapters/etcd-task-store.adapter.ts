import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { mqV1 } from '@wharf/contracts';
import { KeyLayout, type Etcd3 } from '@wharf/etcd';
import { FailedPreconditionError, NotFoundError } from '@wharf/grpc';
import { randomUUID } from 'node:crypto';
import type { ICompare, IKeyValue, IRequestOp } from 'etcd3';
import { MAX_CLAIM_BATCH, leaseExpiry, type ClaimFor, type ReadyTask } from '../domain/claims';
import { backoffMs } from '../domain/rules';
import { MAX_TXN_BYTES, TxnBatcher } from './txn-batcher';

export interface TaskStoreOptions {
  defaultMaxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  now?: () => number;
}

type Delivery = mqV1.Delivery;
type TaskRecord = mqV1.TaskRecord;

const encode = (r: TaskRecord) => Buffer.from(toBinary(mqV1.TaskRecordSchema, r));
const decode = (b: Uint8Array) => fromBinary(mqV1.TaskRecordSchema, b);
const put = (key: string, value: Buffer | string): IRequestOp => ({ request_put: { key: Buffer.from(key), value: Buffer.from(value) } });
const del = (key: string): IRequestOp => ({ request_delete_range: { key: Buffer.from(key) } });

function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  end[end.length - 1]++; // prefixes here end in '/', never 0xff
  return end;
}

/**
 * Every state change of the queue, each one etcd transaction guarded by compares, so any
 * number of mq instances can work on the same topics. A task is waiting (task + ready key),
 * in flight (task + lease key), or dead (dead key); acked tasks are deleted.
 */
export { decode as decodeTaskRecord };

export class TaskStore {
  private readonly now: () => number;
  private readonly batcher: TxnBatcher;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly options: TaskStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.batcher = new TxnBatcher(client);
  }

  /**
   * Creates the task unless a task with that id is waiting or in flight. With `handoff` the
   * task is created already leased to that consumer (attempt 1) in the same transaction:
   * the delivery is then returned and the task never waits in the ready keys.
   */
  async enqueue(
    req: { topic: string; taskId: string; eventId: string; payload: Uint8Array; maxAttempts: number; delayMs: number },
    handoff?: ClaimFor,
  ): Promise<{ created: boolean; delivery?: Delivery }> {
    const now = this.now();
    const visibleAt = now + req.delayMs;
    const record = create(mqV1.TaskRecordSchema, {
      task: {
        topic: req.topic,
        taskId: req.taskId,
        eventId: req.eventId,
        payload: req.payload,
        attempt: 0,
        maxAttempts: req.maxAttempts || this.options.defaultMaxAttempts,
        enqueuedAtMs: BigInt(now),
      },
      visibleAtMs: BigInt(visibleAt),
    });
    const taskKey = this.keys.mq.task(req.topic, req.taskId);
    const guard: ICompare[] = [{ key: Buffer.from(taskKey), target: 'Create', result: 'Equal', create_revision: 0 }];
    if (!handoff) {
      const created = await this.batcher.submit(guard, [put(taskKey, encode(record)), put(this.keys.mq.ready(req.topic, visibleAt, req.taskId), '')]);
      return { created };
    }
    const delivery = this.lease(record, handoff, now);
    const created = await this.batcher.submit(guard, [put(taskKey, encode(record)), put(this.keys.mq.lease(req.topic, req.taskId), delivery.leaseId)]);
    return created ? { created, delivery } : { created };
  }

  /** Marks the record as leased (next attempt) and returns the delivery for it. */
  private lease(record: TaskRecord, to: ClaimFor, now: number): Delivery {
    // The first expiry is readable from the id, so the sweeper reads no record before it.
    const expires = now + to.leaseMs;
    const leaseId = `${expires.toString(36)}.${randomUUID()}`;
    record.task!.attempt += 1;
    record.lease = create(mqV1.TaskLeaseSchema, { leaseId, expiresAtMs: BigInt(expires), consumer: to.consumer });
    return create(mqV1.DeliverySchema, { task: record.task, leaseId, leaseExpiresAtMs: BigInt(expires) });
  }

  /** Waiting tasks of a topic visible at `now`, oldest first. */
  async ready(topic: string, now: number, limit: number): Promise<ReadyTask[]> {
    const res = await this.client.kv.range({
      key: Buffer.from(this.keys.mq.topicPrefix('ready', topic)),
      range_end: Buffer.from(this.keys.mq.ready(topic, now + 1, '')),
      limit,
      keys_only: true,
    });
    return res.kvs.map((kv) => ({
      taskId: kv.key.toString().slice(kv.key.toString().lastIndexOf('/') + 1),
      readyKey: kv.key.toString(),
      readyModRevision: String(kv.mod_revision),
    }));
  }

  /** When the next waiting task becomes visible (for delayed and backed-off tasks), if any. */
  async nextVisibleAt(topic: string): Promise<number | undefined> {
    const prefix = this.keys.mq.topicPrefix('ready', topic);
    const res = await this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), limit: 1, keys_only: true });
    const key = res.kvs[0]?.key.toString();
    return key ? Number(key.slice(prefix.length, prefix.length + 16)) : undefined;
  }

  /**
   * Leases the given waiting tasks in one transaction. When another instance took one of
   * them first, the transaction writes nothing and each task is then tried on its own.
   */
  async claim(topic: string, candidates: (ReadyTask & ClaimFor)[]): Promise<(Delivery | undefined)[]> {
    if (candidates.length === 0) return [];
    if (candidates.length > MAX_CLAIM_BATCH) throw new Error(`claim takes at most ${MAX_CLAIM_BATCH} tasks`);
    const unknown = candidates.filter((c) => !c.known);
    const read = unknown.length ? await this.readRecords(unknown.map((c) => this.keys.mq.task(topic, c.taskId))) : [];
    const readBy = new Map(unknown.map((c, i) => [c, read[i]]));
    const now = this.now();
    const plans = candidates.flatMap((c, i) => {
      const kv = c.known ? { value: toBinary(mqV1.TaskRecordSchema, c.known.record), mod_revision: c.known.modRevision } : readBy.get(c);
      if (!kv) return []; // acked and gone in between
      const record = decode(kv.value);
      const delivery = this.lease(record, c, now);
      const taskKey = this.keys.mq.task(topic, c.taskId);
      const value = encode(record);
      return [
        {
          compare: [
            { key: Buffer.from(c.readyKey), target: 'Mod' as const, result: 'Equal' as const, mod_revision: c.readyModRevision },
            { key: Buffer.from(taskKey), target: 'Mod' as const, result: 'Equal' as const, mod_revision: String(kv.mod_revision) },
          ],
          ops: [del(c.readyKey), put(taskKey, value), put(this.keys.mq.lease(topic, c.taskId), delivery.leaseId)],
          bytes: value.length + 512,
          delivery,
          index: i,
        },
      ];
    });
    const out: (Delivery | undefined)[] = candidates.map(() => undefined);
    // Big payloads: keep each transaction under etcd's request size limit.
    const groups: (typeof plans)[] = [];
    let bytes = Infinity;
    for (const p of plans) {
      if (bytes + p.bytes > MAX_TXN_BYTES) {
        groups.push([]);
        bytes = 0;
      }
      groups[groups.length - 1].push(p);
      bytes += p.bytes;
    }
    await Promise.all(
      groups.map(async (group) => {
        const all = await this.client.kv.txn({ compare: group.flatMap((p) => p.compare), success: group.flatMap((p) => p.ops), failure: [] });
        if (all.succeeded) {
          for (const p of group) out[p.index] = p.delivery;
        } else if (group.length > 1) {
          // Another instance took some of them: claim the rest one by one.
          await Promise.all(
            group.map(async (p) => {
              if ((await this.client.kv.txn({ compare: p.compare, success: p.ops, failure: [] })).succeeded) out[p.index] = p.delivery;
            }),
          );
        }
      }),
    );
    return out;
  }

  /** Deletes an in-flight task for good; only the holder of the current lease may. */
  async ack(topic: string, taskId: string, leaseId: string): Promise<void> {
    const leaseKey = this.keys.mq.lease(topic, taskId);
    const ok = await this.batcher.submit(
      [{ key: Buffer.from(leaseKey), target: 'Value', result: 'Equal', value: Buffer.from(leaseId) }],
      [del(leaseKey), del(this.keys.mq.task(topic, taskId))],
    );
    if (!ok) await this.explainLeaseMiss(topic, taskId);
  }

  /** Gives a task back: visible again after a back-off, or dead after its last attempt. */
  async nack(
    topic: string,
    taskId: string,
    leaseId: string,
    reason: string,
    retryAfterMs: number,
  ): Promise<{ dead: boolean; attempt: number; visibleAtMs: number }> {
    const { kv, record } = await this.heldRecord(topic, taskId, leaseId);
    const task = record.task!;
    task.lastError = reason.slice(0, 4096);
    record.lease = undefined;
    const dead = task.attempt >= task.maxAttempts;
    const visibleAt = this.now() + (retryAfterMs || backoffMs(task.attempt, this.options.backoffBaseMs, this.options.backoffMaxMs));
    record.visibleAtMs = BigInt(visibleAt);
    const ok = await this.moveFromFlight(topic, taskId, leaseId, kv, record, dead);
    if (!ok) await this.explainLeaseMiss(topic, taskId);
    return { dead, attempt: task.attempt, visibleAtMs: dead ? 0 : visibleAt };
  }

  async extendLease(topic: string, taskId: string, leaseId: string, leaseMs: number): Promise<number> {
    const { kv, record } = await this.heldRecord(topic, taskId, leaseId);
    const expires = this.now() + leaseMs;
    record.lease!.expiresAtMs = BigInt(expires);
    const taskKey = this.keys.mq.task(topic, taskId);
    const res = await this.client.kv.txn({
      compare: [
        { key: Buffer.from(this.keys.mq.lease(topic, taskId)), target: 'Value', result: 'Equal', value: Buffer.from(leaseId) },
        { key: Buffer.from(taskKey), target: 'Mod', result: 'Equal', mod_revision: String(kv.mod_revision) },
      ],
      success: [put(taskKey, encode(record))],
      failure: [],
    });
    if (!res.succeeded) await this.explainLeaseMiss(topic, taskId);
    return expires;
  }

  /** Hands a claimed task back untouched (its consumer went away before it was delivered). */
  async release(topic: string, delivery: Delivery): Promise<void> {
    const taskId = delivery.task!.taskId;
    const records = await this.readRecords([this.keys.mq.task(topic, taskId)]);
    const kv = records[0];
    if (!kv) return;
    const record = decode(kv.value);
    record.task!.attempt = Math.max(0, record.task!.attempt - 1);
    record.lease = undefined;
    record.visibleAtMs = BigInt(this.now());
    await this.moveFromFlight(topic, taskId, delivery.leaseId, kv, record, false);
  }

  /**
   * Returns tasks whose lease expired to the queue (or the dead letter after their last
   * attempt). Safe to run on every instance at once: each move compares on the lease.
   */
  async sweepExpired(): Promise<number> {
    const prefix = this.keys.mq.topicPrefix('lease');
    const leases = await this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) });
    if (leases.kvs.length === 0) return 0;
    const now = this.now();
    // Only leases whose first expiry has passed (an extended one is then read and kept).
    const refs = leases.kvs.flatMap((kv) => {
      const [topic, taskId] = kv.key.toString().slice(prefix.length).split('/');
      const leaseId = kv.value.toString();
      return leaseExpiry(leaseId) > now ? [] : [{ topic, taskId, leaseId }];
    });
    if (refs.length === 0) return 0;
    const records = await this.readRecords(refs.map((r) => this.keys.mq.task(r.topic, r.taskId)));
    let moved = 0;
    await Promise.all(
      refs.map(async (ref, i) => {
        const kv = records[i];
        if (!kv) return;
        const record = decode(kv.value);
        if (record.lease?.leaseId !== ref.leaseId || Number(record.lease.expiresAtMs) > now) return;
        const task = record.task!;
        task.lastError = `lease expired (held by ${record.lease.consumer || 'unknown consumer'})`;
        record.lease = undefined;
        record.visibleAtMs = BigInt(now);
        if (await this.moveFromFlight(ref.topic, ref.taskId, ref.leaseId, kv, record, task.attempt >= task.maxAttempts)) moved++;
      }),
    );
    return moved;
  }

  async stats(topics: string[]): Promise<mqV1.TopicStats[]> {
    const names = topics.length > 0 ? topics : await this.topics();
    const now = this.now();
    return Promise.all(
      names.map(async (topic) => {
        const count = async (kind: 'ready' | 'lease' | 'dead') => {
          const prefix = this.keys.mq.topicPrefix(kind, topic);
          return BigInt((await this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), count_only: true })).count);
        };
        const [depth, inFlight, dead, oldest] = await Promise.all([count('ready'), count('lease'), count('dead'), this.nextVisibleAt(topic)]);
        return create(mqV1.TopicStatsSchema, { topic, depth, inFlight, dead, oldestAgeMs: oldest !== undefined && oldest <= now ? BigInt(now - oldest) : 0n });
      }),
    );
  }

  async listDead(topic: string, limit: number): Promise<mqV1.Task[]> {
    const prefix = this.keys.mq.topicPrefix('dead', topic);
    const res = await this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), limit });
    return res.kvs.map((kv) => decode(kv.value).task!);
  }

  private async topics(): Promise<string[]> {
    const names = new Set<string>();
    for (const kind of ['task', 'dead'] as const) {
      const prefix = this.keys.mq.topicPrefix(kind);
      const res = await this.client.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix), keys_only: true });
      for (const kv of res.kvs) names.add(kv.key.toString().slice(prefix.length).split('/')[0]);
    }
    return [...names].sort();
  }

  private async moveFromFlight(topic: string, taskId: string, leaseId: string, kv: IKeyValue, record: TaskRecord, dead: boolean): Promise<boolean> {
    const taskKey = this.keys.mq.task(topic, taskId);
    const leaseKey = this.keys.mq.lease(topic, taskId);
    const res = await this.client.kv.txn({
      compare: [
        { key: Buffer.from(leaseKey), target: 'Value', result: 'Equal', value: Buffer.from(leaseId) },
        { key: Buffer.from(taskKey), target: 'Mod', result: 'Equal', mod_revision: String(kv.mod_revision) },
      ],
      success: dead
        ? [del(leaseKey), del(taskKey), put(this.keys.mq.dead(topic, taskId), encode(record))]
        : [del(leaseKey), put(taskKey, encode(record)), put(this.keys.mq.ready(topic, Number(record.visibleAtMs), taskId), '')],
      failure: [],
    });
    return res.succeeded;
  }

  private async heldRecord(topic: string, taskId: string, leaseId: string): Promise<{ kv: IKeyValue; record: TaskRecord }> {
    const [kv] = await this.readRecords([this.keys.mq.task(topic, taskId)]);
    const record = kv ? decode(kv.value) : undefined;
    if (!kv || !record || record.lease?.leaseId !== leaseId) await this.explainLeaseMiss(topic, taskId);
    return { kv: kv!, record: record! };
  }

  /** Always throws: NOT_FOUND when the task is gone, FAILED_PRECONDITION when someone else holds it. */
  private async explainLeaseMiss(topic: string, taskId: string): Promise<never> {
    const [kv] = await this.readRecords([this.keys.mq.task(topic, taskId)]);
    if (!kv) throw new NotFoundError(`task ${topic}/${taskId} not found: it was acked, dead-lettered or never enqueued`);
    throw new FailedPreconditionError(`task ${topic}/${taskId}: lease not held; it expired and the task is queued again or held by another consumer`);
  }

  /** Point reads in read-only transactions (one round trip per 100 keys; etcd allows 128 ops). */
  private async readRecords(keys: string[]): Promise<(IKeyValue | undefined)[]> {
    const out: (IKeyValue | undefined)[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      const chunk = keys.slice(i, i + 100);
      const res = await this.client.kv.txn({ compare: [], success: chunk.map((key) => ({ request_range: { key: Buffer.from(key) } })), failure: [] });
      out.push(...res.responses.map((r) => r.response_range?.kvs[0]));
    }
    return out;
  }
}
