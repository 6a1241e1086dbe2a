import type { Etcd3, KeyLayout } from '@wharf/etcd';
import type { Logger } from '@wharf/logging';
import type { Lease, Watcher } from 'etcd3';

/**
 * Which app-manager instance acts on which component: exactly one at a time. Components are
 * hashed into slots; a slot has one owner, held as an etcd key on the owner's lease. Tasks are
 * taken by any instance (they only record the intent in the event store), but only the owner
 * of a component's slot creates, probes, retires and reports its replicas.
 */
export interface Ownership {
  owns(componentId: string): boolean;
  /** handlers.acquired/released: a slot came or went (callers look at its components again). */
  start(handlers: { acquired(slot: number): void; released(slot: number): Promise<void> }): Promise<void>;
  stop(): Promise<void>;
  slotOf(componentId: string): number;
}

/** FNV-1a of the component id, mod the slot count. */
export function slotOf(componentId: string, slots: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < componentId.length; i++) {
    h ^= componentId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % slots;
}

/** Rendezvous (highest random weight) hash: every instance computes the same owner. */
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

/** One instance owns everything (tests with one process). */
export class SoleOwnership implements Ownership {
  constructor(private readonly slots = 1) {}
  owns(): boolean {
    return true;
  }
  slotOf(componentId: string): number {
    return slotOf(componentId, this.slots);
  }
  async start(handlers: { acquired(slot: number): void }): Promise<void> {
    for (let s = 0; s < this.slots; s++) handlers.acquired(s);
  }
  async stop(): Promise<void> {}
}

interface Member {
  instance: string;
  grpc: string;
}

/**
 * Slot ownership through etcd: each instance keeps appmgr/members/<instance> on its lease; the
 * wanted owner of a slot is the rendezvous hash over live members; an instance takes
 * appmgr/slot/<n> (create-only, on its lease) when it is the wanted owner and the key is free,
 * and gives a slot up (waiting for its running actions first, then deleting the key) when a new
 * member is wanted instead. A dead instance's keys vanish with its lease after the TTL and the
 * survivors take its slots. Fence: without a lease renewal for TTL-1 s it acts on nothing.
 */
export class EtcdOwnership implements Ownership {
  private lease?: Lease;
  private readonly members = new Map<string, Member>();
  private readonly owners = new Map<number, string>();
  private readonly owned = new Set<number>();
  private watchers: Watcher[] = [];
  private timer?: NodeJS.Timeout;
  private handlers?: { acquired(slot: number): void; released(slot: number): Promise<void> };
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private lastRenewMs = 0;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly self: Member,
    private readonly slots: number,
    private readonly ttlS: number,
    private readonly logger: Logger,
  ) {}

  slotOf(componentId: string): number {
    return slotOf(componentId, this.slots);
  }

  owns(componentId: string): boolean {
    return this.owned.has(this.slotOf(componentId)) && Date.now() - this.lastRenewMs < (this.ttlS - 1) * 1000;
  }

  async start(handlers: { acquired(slot: number): void; released(slot: number): Promise<void> }): Promise<void> {
    this.handlers = handlers;
    await this.newLease();
    for (const [prefix, apply] of [
      [this.keys.appmgr.membersPrefix(), (k: string, v: string | undefined) => this.applyMember(k, v)],
      [this.keys.appmgr.slotPrefix(), (k: string, v: string | undefined) => this.applySlot(k, v)],
    ] as const) {
      const w = await this.client.watch().prefix(prefix).create();
      w.on('put', (kv) => (apply(kv.key.toString(), kv.value.toString()), this.rebalance()));
      w.on('delete', (kv) => (apply(kv.key.toString(), undefined), this.rebalance()));
      w.on('error', (err) => this.logger.warn({ err }, 'ownership watch error'));
      this.watchers.push(w);
    }
    await this.resync();
    this.timer = setInterval(() => void this.resync().catch((err) => this.logger.warn({ err }, 'ownership resync failed')), 2000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const w of this.watchers) await w.cancel().catch(() => undefined);
    await this.running?.catch(() => undefined);
    for (const s of [...this.owned]) await this.giveUp(s);
    // Revoking deletes the member key at once: the others take over without waiting for the TTL.
    await this.lease?.revoke().catch(() => undefined);
  }

  private async newLease(): Promise<void> {
    const lease = this.client.lease(this.ttlS, { autoKeepAlive: true });
    this.lease = lease;
    lease.on('keepaliveSucceeded', () => (this.lastRenewMs = Date.now()));
    lease.on('lost', (err) => {
      if (this.stopped || this.lease !== lease) return;
      this.logger.error({ err }, 'etcd lease lost: giving up every slot, then joining again');
      this.lastRenewMs = 0;
      void (async () => {
        for (const s of [...this.owned]) {
          this.owned.delete(s);
          await this.handlers!.released(s).catch(() => undefined);
        }
        await this.newLease().catch((e) => this.logger.error({ err: e }, 'cannot get a new lease'));
        this.rebalance();
      })();
    });
    await lease.grant();
    this.lastRenewMs = Date.now();
    await lease.put(this.keys.appmgr.member(this.self.instance)).value(JSON.stringify(this.self));
  }

  private applyMember(key: string, value: string | undefined): void {
    const name = key.slice(this.keys.appmgr.membersPrefix().length);
    if (value === undefined) this.members.delete(name);
    else this.members.set(name, parse(value) ?? { instance: name, grpc: '' });
  }

  private applySlot(key: string, value: string | undefined): void {
    const s = Number(key.slice(this.keys.appmgr.slotPrefix().length));
    if (!Number.isInteger(s)) return;
    const m = value === undefined ? undefined : parse(value);
    if (m) this.owners.set(s, m.instance);
    else this.owners.delete(s);
  }

  private async resync(): Promise<void> {
    const [members, slots] = await Promise.all([
      this.client.getAll().prefix(this.keys.appmgr.membersPrefix()).strings(),
      this.client.getAll().prefix(this.keys.appmgr.slotPrefix()).strings(),
    ]);
    this.members.clear();
    for (const [k, v] of Object.entries(members)) this.applyMember(k, v);
    this.owners.clear();
    for (const [k, v] of Object.entries(slots)) this.applySlot(k, v);
    this.rebalance();
    await this.running;
  }

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
    for (let s = 0; s < this.slots; s++) {
      if (this.stopped) return;
      const wanted = rendezvousOwner(names, s);
      const current = this.owners.get(s);
      if (this.owned.has(s) && current !== this.self.instance) {
        const value = await this.client.get(this.keys.appmgr.slot(s)).string();
        if (value === JSON.stringify(this.self)) {
          this.owners.set(s, this.self.instance);
          continue;
        }
        this.owned.delete(s); // our key is gone: act on nothing of it from now on
        await this.handlers!.released(s).catch(() => undefined);
        continue;
      }
      if (wanted === this.self.instance && current === undefined) await this.take(s);
      else if (current === this.self.instance && !this.owned.has(s) && wanted === this.self.instance) {
        this.owned.add(s);
        this.handlers!.acquired(s);
      } else if (wanted !== this.self.instance && this.owned.has(s) && this.members.has(wanted ?? '')) await this.giveUp(s);
    }
  }

  private async take(s: number): Promise<void> {
    const key = this.keys.appmgr.slot(s);
    const res = await this.client
      .if(key, 'Create', '==', 0)
      .then(
        this.client
          .put(key)
          .value(JSON.stringify(this.self))
          .lease(await this.lease!.grant()),
      )
      .commit();
    if (!res.succeeded) return;
    this.owners.set(s, this.self.instance);
    this.owned.add(s);
    this.handlers!.acquired(s);
  }

  private async giveUp(s: number): Promise<void> {
    this.owned.delete(s);
    // Running creates and removals of the slot's components finish before another instance may start.
    await this.handlers!.released(s).catch((err) => this.logger.warn({ err, slot: s }, 'release failed'));
    const key = this.keys.appmgr.slot(s);
    await this.client
      .if(key, 'Value', '==', JSON.stringify(this.self))
      .then(this.client.delete().key(key))
      .commit()
      .catch(() => undefined);
  }
}

function parse(v: string): Member | undefined {
  try {
    const m = JSON.parse(v) as Partial<Member>;
    return typeof m.instance === 'string' ? { instance: m.instance, grpc: typeof m.grpc === 'string' ? m.grpc : '' } : undefined;
  } catch {
    return undefined;
  }
}
