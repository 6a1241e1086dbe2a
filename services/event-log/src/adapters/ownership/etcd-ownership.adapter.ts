import { LeasedSlots, type Etcd3, type KeyLayout, type SlotMember } from '@wharf/etcd';
import type { Logger } from '@wharf/logging';
import type { Ownership } from './ownership';

/**
 * Partition ownership through etcd (@wharf/etcd's LeasedSlots over eventlog/members and
 * eventlog/partition): acquiring a partition opens its directory, releasing flushes and closes
 * it before the key goes. A dead instance's partitions are taken over and recovered from the
 * shared data directory: everything acknowledged was fsynced there.
 */
export function etcdOwnership(client: Etcd3, keys: KeyLayout, self: SlotMember, partitions: number, ttlS: number, logger: Logger): Ownership {
  return new LeasedSlots({
    client,
    keys: {
      membersPrefix: keys.eventlog.membersPrefix(),
      member: (instance) => keys.eventlog.member(instance),
      slotsPrefix: keys.eventlog.partitionPrefix(),
      slot: (n) => keys.eventlog.partition(n),
    },
    self,
    slots: partitions,
    ttlS,
    logger,
    noun: 'partition',
  });
}
