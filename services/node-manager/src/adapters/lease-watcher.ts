import type { Etcd3, KeyLayout } from '@wharf/etcd';
import type { Logger } from '@wharf/logging';
import type { NodeDirectory } from '@wharf/nodes';
import { migrationMove, type MovePolicy } from '../domain/automatic-moves';

type Campaign = ReturnType<ReturnType<Etcd3['election']>['campaign']>;
type Watcher = Awaited<ReturnType<ReturnType<Etcd3['watch']>['create']>>;

export interface LeaseWatcherOptions {
  identity: string;
  ttlS: number;
  policy: Pick<MovePolicy, 'migration'>;
  /** Called with (node id, ms from the key's delete event to the transition) after a node is marked. */
  onDetected?: (nodeId: string) => void;
  /** Called with true when this node-manager is elected, false when it no longer leads. */
  onLeading?: (leading: boolean) => void;
}

/**
 * Who notices a node whose node-manager died: every node-manager stands in one etcd election
 * (etcd3's Election on a lease of the same TTL as the heartbeats) and only the elected one
 * watches <root>/nodes/. A heartbeat key that goes away (its lease expired, or was revoked)
 * turns its node INITED|READY -> ERROR_DETECTED (then ERROR on Docker, where nothing can move),
 * through the event store with optimistic concurrency, so a second writer can never double it.
 * One TTL after its election, and every TTL after, it also sweeps: a node INITED or READY without
 * a heartbeat key is marked the same way (covers deaths while nobody led, and a watch that missed
 * a delete). Not at once: when a whole data center starts again, the node-managers that come up
 * within a TTL of the first one are not failed for being late.
 * One watcher rather than every node-manager: N nodes cost one watch and one write per death,
 * not N; api-gateway is not the watcher because it is a request path that may run in any
 * number, while node-manager exists wherever a node does.
 */
export class LeaseWatcher {
  private campaign?: Campaign;
  private watcher?: Watcher;
  private sweepTimer?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private stopped = false;
  leading = false;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly directory: NodeDirectory,
    private readonly o: LeaseWatcherOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.stopped || this.campaign) return;
    const campaign = this.client.namespace(this.keys.nodes.watchPrefix()).election('nodes', this.o.ttlS).campaign(this.o.identity);
    this.campaign = campaign;
    campaign.on('elected', () => {
      if (this.campaign !== campaign || this.stopped) return;
      this.leading = true;
      this.logger.info({ identity: this.o.identity }, 'elected node lease watcher');
      this.o.onLeading?.(true);
      void this.lead();
    });
    campaign.on('error', (err: Error) => {
      if (this.campaign !== campaign) return;
      this.campaign = undefined;
      void this.follow();
      if (this.stopped) return;
      this.logger.warn({ err: err.message }, 'node watcher campaign failed; campaigning again');
      this.retry = setTimeout(() => this.start(), 1000);
    });
  }

  private async lead(): Promise<void> {
    try {
      const prefix = this.keys.nodes.prefix();
      // The watch first, then the sweeps: a key that goes between the two is seen by one of them.
      this.watcher = await this.client.watch().prefix(prefix).create();
      this.watcher.on('delete', (kv) => void this.lost(kv.key.toString().slice(prefix.length), 'heartbeat lease expired'));
      this.watcher.on('error', (err) => this.logger.warn({ err: err.message }, 'node watch failed; the next sweep covers it'));
      this.sweepTimer = setInterval(() => void this.sweep(), this.o.ttlS * 1000);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'starting the node watch failed; the next sweep tries again');
      if (!this.sweepTimer) this.sweepTimer = setInterval(() => void this.sweep(), this.o.ttlS * 1000);
    }
  }

  private async follow(): Promise<void> {
    if (this.leading) this.o.onLeading?.(false);
    this.leading = false;
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    const w = this.watcher;
    this.watcher = undefined;
    await w?.cancel().catch(() => undefined);
  }

  /** Marks every INITED or READY node without a heartbeat key. */
  async sweep(): Promise<void> {
    if (!this.leading) return;
    try {
      const [nodes, beats] = await Promise.all([this.directory.list(), this.directory.heartbeats()]);
      for (const n of nodes)
        if ((n.record.state === 'INITED' || n.record.state === 'READY') && !beats.has(n.record.id))
          await this.lost(n.record.id, 'no heartbeat (lease expired)');
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'node sweep failed');
    }
  }

  private async lost(nodeId: string, reason: string): Promise<void> {
    if (!this.leading) return;
    try {
      // The key may be back already (a node-manager that restarted within a blink): then it lives.
      if (await this.directory.heartbeat(nodeId)) return;
      const failed = await this.directory.change(nodeId, 'fail', { reason, actor: 'service:node-manager', ifAllowed: true });
      if (!failed) return;
      this.logger.warn({ node: nodeId, reason }, 'node marked ERROR_DETECTED');
      this.o.onDetected?.(nodeId);
      const move = migrationMove(this.o.policy);
      if (move) await this.directory.change(nodeId, move.action, { reason: move.reason, actor: 'service:node-manager', ifAllowed: true });
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, node: nodeId }, 'marking a node failed; the next sweep tries again');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const campaign = this.campaign;
    this.campaign = undefined;
    await this.follow();
    // Resigning revokes the campaign's lease: another node-manager leads at once, not after the TTL.
    await campaign?.resign().catch(() => undefined);
  }
}
