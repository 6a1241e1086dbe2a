import { UnavailableError } from '@wharf/errors';
import type { Ownership } from '../adapters/ownership/ownership';
import type { Peer, PeerFactory } from '../adapters/peers/peer';
import type { PartitionStore } from '../adapters/storage/partition-store';
import type { Partitions } from './partitions';

/** Where a call for one partition goes: the store open here, or the owner's peer. */
export type Route = { store: PartitionStore } | { peer: Peer };

/** How long callers are told to wait before retrying a partition that is moving. */
const RETRY_AFTER_MS = 500;

/**
 * Routes each call to its partition's owner: the local store, or another instance through a
 * peer (one per address, from the injected factory). A partition without a usable owner is
 * UNAVAILABLE, with what is wrong (moving, or coordination down).
 */
export class Router {
  private readonly peers = new Map<string, Peer>();

  constructor(
    private readonly ownership: Ownership,
    private readonly partitions: Partitions,
    private readonly peerFactory: PeerFactory,
  ) {}

  /** forwarded: the call came from another instance and must be served here (forwarding again could loop while ownership moves). */
  async route(partition: number, forwarded: boolean): Promise<Route> {
    const owner = this.ownership.owner(partition);
    if (owner?.local) {
      const store = await this.partitions.ready(partition);
      if (store) return { store };
    } else if (owner && !forwarded) return { peer: this.peer(owner.grpc) };
    throw this.unavailable(partition, forwarded);
  }

  peer(address: string): Peer {
    let p = this.peers.get(address);
    if (!p) this.peers.set(address, (p = this.peerFactory(address)));
    return p;
  }

  close(): void {
    for (const p of this.peers.values()) p.close();
    this.peers.clear();
  }

  private unavailable(partition: number, forwarded: boolean): UnavailableError {
    const problem = this.ownership.problem();
    const message = problem
      ? `partition ${partition} has no usable owner: ${problem}; retry`
      : forwarded
        ? `partition ${partition} is not owned by this instance (moved); retry`
        : `partition ${partition} is moving between instances; retry`;
    return new UnavailableError(message, { retryAfterMs: RETRY_AFTER_MS, reason: problem ? 'coordination_unavailable' : 'partition_moving' });
  }
}
