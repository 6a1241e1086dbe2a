import { LeasedSlots, slotOf, type Etcd3, type KeyLayout, type SlotMember } from '@wharf/etcd';
import type { Logger } from '@wharf/logging';

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

/**
 * Slot ownership through etcd (@wharf/etcd's LeasedSlots over appmgr/members and appmgr/slot):
 * a slot is held before its components are looked at (acquired) and let go before its running
 * actions are waited for (released), so nothing new starts on a slot being given up. Fence:
 * without a lease renewal for TTL-1 s it acts on nothing.
 */
export class EtcdOwnership implements Ownership {
  private readonly leased: LeasedSlots;

  constructor(
    client: Etcd3,
    keys: KeyLayout,
    self: SlotMember,
    private readonly slots: number,
    ttlS: number,
    logger: Logger,
  ) {
    this.leased = new LeasedSlots({
      client,
      keys: {
        membersPrefix: keys.appmgr.membersPrefix(),
        member: (instance) => keys.appmgr.member(instance),
        slotsPrefix: keys.appmgr.slotPrefix(),
        slot: (n) => keys.appmgr.slot(n),
      },
      self,
      slots,
      ttlS,
      logger,
    });
  }

  slotOf(componentId: string): number {
    return slotOf(componentId, this.slots);
  }

  owns(componentId: string): boolean {
    return this.leased.holds(this.slotOf(componentId));
  }

  start(handlers: { acquired(slot: number): void; released(slot: number): Promise<void> }): Promise<void> {
    return this.leased.start({ acquire: async (slot) => handlers.acquired(slot), release: (slot) => handlers.released(slot) });
  }

  stop(): Promise<void> {
    return this.leased.stop();
  }
}
