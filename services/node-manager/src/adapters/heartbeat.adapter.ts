import { toJsonString } from '@bufbuild/protobuf';
import { nodeV1 } from '@wharf/contracts';
import type { Etcd3, KeyLayout } from '@wharf/etcd';
import type { Logger } from '@wharf/logging';

type Lease = ReturnType<Etcd3['lease']>;

/**
 * The node's key <root>/nodes/<id> on an etcd lease of ttlS seconds, kept alive by etcd3 (a
 * keepalive every ttl/3). A lost lease (etcd unreachable past the TTL) is granted again and the
 * last value put back. Stopping releases the lease without revoking it: a node-manager that
 * restarts within the TTL is never seen as dead; one that stays away longer is.
 */
export class HeartbeatLease {
  private lease?: Lease;
  private last?: nodeV1.NodeHeartbeat;
  private stopped = false;
  private regrant?: NodeJS.Timeout;
  /** The last put went through (etcd took it). */
  healthy = false;
  leaseId = '';

  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly nodeId: string,
    readonly ttlS: number,
    private readonly logger: Logger,
  ) {}

  /** Grants the lease (waits for etcd). */
  async start(): Promise<void> {
    const lease = this.client.lease(this.ttlS);
    lease.on('lost', (err) => {
      if (this.lease !== lease || this.stopped) return;
      this.healthy = false;
      this.lease = undefined;
      this.logger.warn({ err: err.message }, 'heartbeat lease lost; granting a new one');
      this.regrant = setTimeout(() => void this.restart(), 500);
    });
    this.lease = lease;
    // etcd3 grants lazily; ask for the id now, so a start without etcd fails here.
    this.leaseId = BigInt(await lease.grant()).toString(16);
  }

  private async restart(): Promise<void> {
    try {
      await this.start();
      if (this.last) await this.put(this.last);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'granting the heartbeat lease failed; trying again');
      if (!this.stopped) this.regrant = setTimeout(() => void this.restart(), 1000);
    }
  }

  /** Writes the heartbeat's value on the lease; false when etcd did not take it. */
  async put(hb: nodeV1.NodeHeartbeat): Promise<boolean> {
    this.last = hb;
    const lease = this.lease;
    if (!lease || this.stopped) return false;
    try {
      hb.leaseId = this.leaseId;
      await lease.put(this.keys.nodes.node(this.nodeId)).value(toJsonString(nodeV1.NodeHeartbeatSchema, hb));
      this.healthy = true;
    } catch (err) {
      this.healthy = false;
      this.logger.warn({ err: (err as Error).message }, 'heartbeat put failed');
    }
    return this.healthy;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.regrant);
    this.lease?.release();
  }
}
