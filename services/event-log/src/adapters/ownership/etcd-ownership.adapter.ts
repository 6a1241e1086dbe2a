import { watchLive, type Etcd3, type KeyLayout, type LiveWatch } from '@wharf/etcd';
import type { Logger } from '@wharf/logging';
import type { Lease } from 'etcd3';
import type { Ownership, PartitionOwner } from './ownership';

interface Member {
  instance: string;
  grpc: string;
}

/** Rendezvous (highest random weight) hash: every instance computes the same owner from the member list. */
export function rendezvousOwner(members: string[], partition: number): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const m of members) {
    let h = 0x811c9dc5;
    const key = `${m}/${partition}`;
    for (let i = 0; i < key.length; i++) {
      h ^= key.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    // A final mix so neighbouring partitions do not land on the same member.
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    const score = h >>> 0;
    if (score > bestScore || (score === bestScore && best !== undefined && m < best)) {
      best = m;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Partition ownership through etcd. Each instance keeps `eventlog/members/<instance>` on its
 * lease; the wanted owner of partition n is the rendezvous hash over live members. An
 * instance takes `eventlog/partition/<n>` (on its lease, create-only) when it is the wanted
 * owner and the key is free, opens the partition's directory, and serves it; an owner that is
 * no longer wanted (a member joined) flushes and closes the partition first and deletes the key
 * after, so two instances never write one partition. A dead instance's keys vanish with its
 * lease (TTL) and the wanted owners take its partitions over, recovering them from the shared
 * data directory: everything acknowledged was fsynced there.
 * Fence: an instance whose lease has not been renewed for TTL-1 s stops serving its partitions.
 */
export class EtcdOwnership implements Ownership {
  private lease?: Lease;
  private readonly members = new Map<string, Member>();
  private readonly owners = new Map<number, Member>();
  private readonly owned = new Set<number>();
  private watchers: LiveWatch[] = [];
  private timer?: NodeJS.Timeout;
  private handlers?: { acquire(p: number): Promise<void>; release(p: number): Promise<void> };
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private lastRenewMs = 0;
  /** The last etcd failure seen (lease keep-alive, resync) with no success since. */
  private etcdFailure?: string;
  /** Partitions this instance failed to open: not tried again before `at` (doubling waits). */
  private readonly openFailures = new Map<number, { at: number; waitMs: number }>();

  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly self: Member,
    private readonly partitions: number,
    private readonly ttlS: number,
    private readonly logger: Logger,
  ) {}

  owner(partition: number): PartitionOwner {
    if (this.owned.has(partition)) {
      // Fence: without a recent renewal our lease may be gone and the partition taken over.
      return Date.now() - this.lastRenewMs < (this.ttlS - 1) * 1000 ? { local: true } : undefined;
    }
    const o = this.owners.get(partition);
    if (!o || o.instance === this.self.instance) return undefined;
    return { local: false, instance: o.instance, grpc: o.grpc };
  }

  problem(): string | undefined {
    if (this.stopped || !this.handlers) return undefined;
    if (this.etcdFailure) return `etcd is unreachable (${this.etcdFailure})`;
    // A renewal is due every TTL/3: two missed mean etcd is not answering, even before an error says so.
    const sinceRenewMs = Date.now() - this.lastRenewMs;
    if (this.lastRenewMs && sinceRenewMs > (this.ttlS * 2000) / 3 + 500)
      return `etcd is unreachable (lease not renewed for ${(sinceRenewMs / 1000).toFixed(1)} s)`;
    return undefined;
  }

  async start(handlers: { acquire(p: number): Promise<void>; release(p: number): Promise<void> }): Promise<void> {
    this.handlers = handlers;
    await this.newLease();
    for (const [prefix, apply] of [
      [this.keys.eventlog.membersPrefix(), (k: string, v: string | undefined) => this.applyMember(k, v)],
      [this.keys.eventlog.partitionPrefix(), (k: string, v: string | undefined) => this.applyPartition(k, v)],
    ] as const) {
      const w = await watchLive(this.client, prefix);
      w.on('put', (kv) => (apply(kv.key.toString(), kv.value.toString()), this.rebalance()));
      w.on('delete', (kv) => (apply(kv.key.toString(), undefined), this.rebalance()));
      w.on('retry', (err) => this.logger.warn({ err }, 'ownership watch cancelled by etcd; watching again'));
      w.on('resync', () => void this.resync().catch((err) => this.logger.warn({ err }, 'ownership resync failed')));
      this.watchers.push(w);
    }
    await this.resync();
    // The watch is the fast path; a periodic full read repairs anything it missed.
    this.timer = setInterval(
      () =>
        void this.resync().catch((err: Error) => {
          this.etcdFailure ??= `resync failed: ${err.message}`;
          this.logger.warn({ err }, 'ownership resync failed');
        }),
      2000,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const w of this.watchers) await w.cancel().catch(() => undefined);
    await this.running?.catch(() => undefined);
    for (const p of [...this.owned]) await this.giveUp(p);
    // Revoking the lease deletes the member key at once: others take over without waiting for the TTL.
    await this.lease?.revoke().catch(() => undefined);
  }

  private async newLease(): Promise<void> {
    const lease = this.client.lease(this.ttlS, { autoKeepAlive: true });
    this.lease = lease;
    lease.on('keepaliveSucceeded', () => {
      this.lastRenewMs = Date.now();
      this.etcdFailure = undefined;
    });
    // etcd3 types the argument as a response; it is the error (lease.js emits castGrpcError(err)).
    lease.on('keepaliveFailed', (res) => {
      if (this.lease === lease) this.etcdFailure = `lease keep-alive failed: ${(res as unknown as Error).message}`;
    });
    lease.on('lost', (err) => {
      if (this.stopped || this.lease !== lease) return;
      this.etcdFailure = `lease lost: ${err.message}`;
      this.logger.error({ err }, 'etcd lease lost: giving up every partition, then joining again');
      this.lastRenewMs = 0;
      void (async () => {
        for (const p of [...this.owned]) {
          await this.handlers!.release(p).catch(() => undefined);
          this.owned.delete(p);
        }
        await this.newLease().catch((e) => this.logger.error({ err: e }, 'cannot get a new lease'));
        this.rebalance();
      })();
    });
    await lease.grant();
    this.lastRenewMs = Date.now();
    this.etcdFailure = undefined;
    await lease.put(this.keys.eventlog.member(this.self.instance)).value(JSON.stringify(this.self));
  }

  private applyMember(key: string, value: string | undefined): void {
    const name = key.slice(this.keys.eventlog.membersPrefix().length);
    if (value === undefined) this.members.delete(name);
    else this.members.set(name, parseMember(value) ?? { instance: name, grpc: '' });
  }

  private applyPartition(key: string, value: string | undefined): void {
    const p = Number(key.slice(this.keys.eventlog.partitionPrefix().length));
    if (!Number.isInteger(p)) return;
    const m = value === undefined ? undefined : parseMember(value);
    if (m) this.owners.set(p, m);
    else this.owners.delete(p);
  }

  private async resync(): Promise<void> {
    const [members, parts] = await Promise.all([
      this.client.getAll().prefix(this.keys.eventlog.membersPrefix()).strings(),
      this.client.getAll().prefix(this.keys.eventlog.partitionPrefix()).strings(),
    ]);
    this.members.clear();
    for (const [k, v] of Object.entries(members)) this.applyMember(k, v);
    this.owners.clear();
    for (const [k, v] of Object.entries(parts)) this.applyPartition(k, v);
    this.rebalance();
    await this.running;
  }

  /** Runs one rebalance at a time; a change during a run schedules another. */
  private rebalance(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.rebalanceOnce().catch((err) => this.logger.warn({ err }, 'rebalance failed'));
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
  }

  private async rebalanceOnce(): Promise<void> {
    const names = [...this.members.keys()];
    if (!names.includes(this.self.instance)) return; // our member key is being re-created
    for (let p = 0; p < this.partitions; p++) {
      if (this.stopped) return;
      const wanted = rendezvousOwner(names, p);
      const current = this.owners.get(p);
      if (this.owned.has(p) && current?.instance !== this.self.instance) {
        // The map may be a stale read: ask etcd before letting go.
        const value = await this.client.get(this.keys.eventlog.partition(p)).string();
        if (value === JSON.stringify(this.self)) {
          this.owners.set(p, this.self);
          continue;
        }
        // Our key is gone (lease trouble, or deleted): stop writing at once.
        await this.handlers!.release(p).catch(() => undefined);
        this.owned.delete(p);
        continue;
      }
      // A partition that failed to open is tried again later (the 2 s resync), not in a loop.
      const backingOff = (this.openFailures.get(p)?.at ?? 0) > Date.now();
      if (wanted === this.self.instance && !current && !backingOff) await this.take(p);
      else if (current?.instance === this.self.instance && !this.owned.has(p) && wanted === this.self.instance && !backingOff) await this.adopt(p);
      else if (wanted !== this.self.instance && this.owned.has(p) && this.members.has(wanted ?? '')) await this.giveUp(p);
    }
  }

  private async take(p: number): Promise<void> {
    const key = this.keys.eventlog.partition(p);
    const value = JSON.stringify(this.self);
    const res = await this.client
      .if(key, 'Create', '==', 0)
      .then(
        this.client
          .put(key)
          .value(value)
          .lease(await this.lease!.grant()),
      )
      .commit();
    if (!res.succeeded) return;
    this.owners.set(p, this.self);
    try {
      await this.handlers!.acquire(p);
      this.owned.add(p);
      this.openFailures.delete(p);
    } catch (err) {
      this.logger.error({ err, partition: p, retry_in_ms: this.backOff(p) }, 'cannot open partition; leaving it to others');
      await this.client
        .if(key, 'Value', '==', value)
        .then(this.client.delete().key(key))
        .commit()
        .catch(() => undefined);
    }
  }

  /** Records a failed open; returns how long until the next try (1 s, doubling to 60 s). */
  private backOff(p: number): number {
    const waitMs = Math.min(60_000, (this.openFailures.get(p)?.waitMs ?? 500) * 2);
    this.openFailures.set(p, { at: Date.now() + waitMs, waitMs });
    return waitMs;
  }

  /** Our key exists but the partition is not open here (a take interrupted by a stale read). */
  private async adopt(p: number): Promise<void> {
    try {
      await this.handlers!.acquire(p);
      this.owned.add(p);
      this.openFailures.delete(p);
    } catch (err) {
      this.logger.error({ err, partition: p, retry_in_ms: this.backOff(p) }, 'cannot open partition');
    }
  }

  private async giveUp(p: number): Promise<void> {
    await this.handlers!.release(p).catch((err) => this.logger.warn({ err, partition: p }, 'release failed'));
    this.owned.delete(p);
    const key = this.keys.eventlog.partition(p);
    await this.client
      .if(key, 'Value', '==', JSON.stringify(this.self))
      .then(this.client.delete().key(key))
      .commit()
      .catch(() => undefined);
  }
}

function parseMember(v: string): Member | undefined {
  try {
    const m = JSON.parse(v) as Partial<Member>;
    return typeof m.instance === 'string' && typeof m.grpc === 'string' ? { instance: m.instance, grpc: m.grpc } : undefined;
  } catch {
    return undefined;
  }
}
