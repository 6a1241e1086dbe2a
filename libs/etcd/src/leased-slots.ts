import type { Etcd3, Lease } from 'etcd3';
import { watchLive, type LiveWatch } from './live-watch';
import type { MaintainerLogger } from './maintainer';

/** A live instance as it advertises itself: its name and where peers reach it. */
export interface SlotMember {
  instance: string;
  grpc: string;
}

/** Where a slot lives right now: here, at a named peer, or nowhere known. */
export type SlotOwner = { local: true } | { local: false; instance: string; grpc: string } | undefined;

/** The keys of one set of slots (a service's members and slot owners). */
export interface SlotKeys {
  membersPrefix: string;
  member(instance: string): string;
  slotsPrefix: string;
  slot(n: number): string;
}

export interface SlotHandlers {
  /** The slot is held here from now on; a throw gives it back to others (tried again after a doubling wait). */
  acquire(slot: number): Promise<void>;
  /** The slot is no longer held here (holds() is already false): finish its running work before the key goes. */
  release(slot: number): Promise<void>;
}

export interface LeasedSlotsOptions {
  client: Etcd3;
  keys: SlotKeys;
  self: SlotMember;
  slots: number;
  ttlS: number;
  logger: MaintainerLogger;
  /** What a slot is called in logs ("partition", "slot"). */
  noun?: string;
}

/** FNV-1a of a string: which slot of `slots` an id belongs to. */
export function slotOf(id: string, slots: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % slots;
}

/** Rendezvous (highest random weight) hash: every instance computes the same owner from the member list. */
export function rendezvousOwner(members: string[], slot: number): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const m of members) {
    let h = 0x811c9dc5;
    const key = `${m}/${slot}`;
    for (let i = 0; i < key.length; i++) {
      h ^= key.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    // A final mix so neighbouring slots do not land on the same member.
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
 * Slots owned through etcd, each by exactly one live instance (event-log's partitions, app-manager's
 * component slots). Each instance keeps its member key on its lease; the wanted owner of slot n is
 * the rendezvous hash over live members. An instance takes slot n's key (on its lease, create-only)
 * when it is the wanted owner and the key is free, then acquires it; an owner that is no longer
 * wanted (a member joined) stops holding it, releases it (its running work finishes) and deletes
 * the key after, so two instances never act on one slot. A dead instance's keys vanish with its
 * lease (TTL) and the wanted owners take its slots over. The watch is the fast path; a full read
 * every 2 s repairs anything it missed.
 * Fence: an instance whose lease has not been renewed for TTL-1 s holds nothing.
 */
export class LeasedSlots {
  private lease?: Lease;
  private readonly members = new Map<string, SlotMember>();
  private readonly owners = new Map<number, SlotMember>();
  private readonly owned = new Set<number>();
  private watchers: LiveWatch[] = [];
  private timer?: NodeJS.Timeout;
  private handlers?: SlotHandlers;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private lastRenewMs = 0;
  /** The last etcd failure seen (lease keep-alive, resync) with no success since. */
  private etcdFailure?: string;
  /** Slots that failed to acquire here: not tried again before `at` (doubling waits). */
  private readonly acquireFailures = new Map<number, { at: number; waitMs: number }>();
  private readonly noun: string;

  constructor(private readonly o: LeasedSlotsOptions) {
    this.noun = o.noun ?? 'slot';
  }

  /** Whether this instance holds the slot now (and its lease is fresh enough to act on it). */
  holds(slot: number): boolean {
    return this.owned.has(slot) && Date.now() - this.lastRenewMs < (this.o.ttlS - 1) * 1000;
  }

  owner(slot: number): SlotOwner {
    // Fence: without a recent renewal our lease may be gone and the slot taken over.
    if (this.owned.has(slot)) return this.holds(slot) ? { local: true } : undefined;
    const o = this.owners.get(slot);
    if (!o || o.instance === this.o.self.instance) return undefined;
    return { local: false, instance: o.instance, grpc: o.grpc };
  }

  /** What keeps ownership from being known right now (etcd cannot be reached), or undefined. */
  problem(): string | undefined {
    if (this.stopped || !this.handlers) return undefined;
    if (this.etcdFailure) return `etcd is unreachable (${this.etcdFailure})`;
    // A renewal is due every TTL/3: two missed mean etcd is not answering, even before an error says so.
    const sinceRenewMs = Date.now() - this.lastRenewMs;
    if (this.lastRenewMs && sinceRenewMs > (this.o.ttlS * 2000) / 3 + 500)
      return `etcd is unreachable (lease not renewed for ${(sinceRenewMs / 1000).toFixed(1)} s)`;
    return undefined;
  }

  async start(handlers: SlotHandlers): Promise<void> {
    this.handlers = handlers;
    await this.newLease();
    for (const [prefix, apply] of [
      [this.o.keys.membersPrefix, (k: string, v: string | undefined) => this.applyMember(k, v)],
      [this.o.keys.slotsPrefix, (k: string, v: string | undefined) => this.applySlot(k, v)],
    ] as const) {
      const w = await watchLive(this.o.client, prefix);
      w.on('put', (kv) => (apply(kv.key.toString(), kv.value.toString()), this.rebalance()));
      w.on('delete', (kv) => (apply(kv.key.toString(), undefined), this.rebalance()));
      w.on('retry', (err) => this.o.logger.warn({ err }, 'ownership watch cancelled by etcd; watching again'));
      w.on('resync', () => void this.resync().catch((err) => this.o.logger.warn({ err }, 'ownership resync failed')));
      this.watchers.push(w);
    }
    await this.resync();
    this.timer = setInterval(
      () =>
        void this.resync().catch((err: Error) => {
          this.etcdFailure ??= `resync failed: ${err.message}`;
          this.o.logger.warn({ err }, 'ownership resync failed');
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
    for (const s of [...this.owned]) await this.giveUp(s);
    // Revoking the lease deletes the member key at once: others take over without waiting for the TTL.
    await this.lease?.revoke().catch(() => undefined);
  }

  private async newLease(): Promise<void> {
    const lease = this.o.client.lease(this.o.ttlS, { autoKeepAlive: true });
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
      this.o.logger.error({ err }, `etcd lease lost: giving up every ${this.noun}, then joining again`);
      this.lastRenewMs = 0;
      void (async () => {
        for (const s of [...this.owned]) {
          this.owned.delete(s);
          await this.handlers!.release(s).catch(() => undefined);
        }
        await this.newLease().catch((e) => this.o.logger.error({ err: e }, 'cannot get a new lease'));
        this.rebalance();
      })();
    });
    await lease.grant();
    this.lastRenewMs = Date.now();
    this.etcdFailure = undefined;
    await lease.put(this.o.keys.member(this.o.self.instance)).value(JSON.stringify(this.o.self));
  }

  private applyMember(key: string, value: string | undefined): void {
    const name = key.slice(this.o.keys.membersPrefix.length);
    if (value === undefined) this.members.delete(name);
    else this.members.set(name, parseMember(value) ?? { instance: name, grpc: '' });
  }

  private applySlot(key: string, value: string | undefined): void {
    const s = Number(key.slice(this.o.keys.slotsPrefix.length));
    if (!Number.isInteger(s)) return;
    const m = value === undefined ? undefined : parseMember(value);
    if (m) this.owners.set(s, m);
    else this.owners.delete(s);
  }

  private async resync(): Promise<void> {
    const [members, slots] = await Promise.all([
      this.o.client.getAll().prefix(this.o.keys.membersPrefix).strings(),
      this.o.client.getAll().prefix(this.o.keys.slotsPrefix).strings(),
    ]);
    this.members.clear();
    for (const [k, v] of Object.entries(members)) this.applyMember(k, v);
    this.owners.clear();
    for (const [k, v] of Object.entries(slots)) this.applySlot(k, v);
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
        await this.rebalanceOnce().catch((err) => this.o.logger.warn({ err }, 'rebalance failed'));
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
  }

  private async rebalanceOnce(): Promise<void> {
    const self = this.o.self.instance;
    const names = [...this.members.keys()];
    if (!names.includes(self)) return; // our member key is being re-created
    for (let s = 0; s < this.o.slots; s++) {
      if (this.stopped) return;
      const wanted = rendezvousOwner(names, s);
      const current = this.owners.get(s);
      if (this.owned.has(s) && current?.instance !== self) {
        // The map may be a stale read: ask etcd before letting go.
        const value = await this.o.client.get(this.o.keys.slot(s)).string();
        if (value === JSON.stringify(this.o.self)) {
          this.owners.set(s, this.o.self);
          continue;
        }
        // Our key is gone (lease trouble, or deleted): act on nothing of it from now on.
        this.owned.delete(s);
        await this.handlers!.release(s).catch(() => undefined);
        continue;
      }
      // A slot that failed to acquire is tried again later (the 2 s resync), not in a loop.
      const backingOff = (this.acquireFailures.get(s)?.at ?? 0) > Date.now();
      if (wanted === self && !current && !backingOff) await this.take(s);
      else if (current?.instance === self && !this.owned.has(s) && wanted === self && !backingOff) await this.acquire(s);
      else if (wanted !== self && this.owned.has(s) && this.members.has(wanted ?? '')) await this.giveUp(s);
    }
  }

  private async take(s: number): Promise<void> {
    const key = this.o.keys.slot(s);
    const value = JSON.stringify(this.o.self);
    const res = await this.o.client
      .if(key, 'Create', '==', 0)
      .then(
        this.o.client
          .put(key)
          .value(value)
          .lease(await this.lease!.grant()),
      )
      .commit();
    if (!res.succeeded) return;
    this.owners.set(s, this.o.self);
    if (await this.acquire(s)) return;
    // Leave it to others while we back off.
    await this.o.client
      .if(key, 'Value', '==', value)
      .then(this.o.client.delete().key(key))
      .commit()
      .catch(() => undefined);
  }

  /** Holds the slot and calls acquire (our key exists); on a failure lets go and backs off. */
  private async acquire(s: number): Promise<boolean> {
    this.owned.add(s);
    try {
      await this.handlers!.acquire(s);
      this.acquireFailures.delete(s);
      return true;
    } catch (err) {
      this.owned.delete(s);
      // 1 s, doubling to 60 s.
      const waitMs = Math.min(60_000, (this.acquireFailures.get(s)?.waitMs ?? 500) * 2);
      this.acquireFailures.set(s, { at: Date.now() + waitMs, waitMs });
      this.o.logger.error({ err, [this.noun]: s, retry_in_ms: waitMs }, `cannot take ${this.noun} ${s}; leaving it to others`);
      return false;
    }
  }

  private async giveUp(s: number): Promise<void> {
    this.owned.delete(s);
    await this.handlers!.release(s).catch((err) => this.o.logger.warn({ err, [this.noun]: s }, 'release failed'));
    const key = this.o.keys.slot(s);
    await this.o.client
      .if(key, 'Value', '==', JSON.stringify(this.o.self))
      .then(this.o.client.delete().key(key))
      .commit()
      .catch(() => undefined);
  }
}

function parseMember(v: string): SlotMember | undefined {
  try {
    const m = JSON.parse(v) as Partial<SlotMember>;
    return typeof m.instance === 'string' ? { instance: m.instance, grpc: typeof m.grpc === 'string' ? m.grpc : '' } : undefined;
  } catch {
    return undefined;
  }
}
