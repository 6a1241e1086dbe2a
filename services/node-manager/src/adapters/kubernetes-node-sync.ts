import type { Logger } from '@wharf/logging';
import type { NodeDirectory, NodeRecord } from '@wharf/nodes';
import type { KubernetesNodes } from '@wharf/runtime';
import { planNode } from '../domain/kubernetes-node-plan';

export interface KubernetesNodeSyncOptions {
  /** Every this often a full pass, ms; a pass also follows each kick (a node's stream moved, a lease expired). */
  everyMs: number;
  /** While a node drains, the next pass comes this soon, ms. */
  drainEveryMs: number;
  onMigrated?: (nodeId: string) => void;
}

/**
 * Makes the cluster follow Wharf's node states (see domain/kubernetes-node-plan.ts): run by the
 * elected lease watcher only, so one node-manager writes to the API server however many run,
 * and a dead node is drained by another node's node-manager. Wharf's node is the cluster's node
 * of the same name; a Wharf node without one, or a cluster node without a Wharf node, is left alone.
 */
export class KubernetesNodeSync {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private active = false;
  /** The last problem logged per node, so a node that stays wrong is not logged every pass. */
  private readonly said = new Map<string, string>();

  constructor(
    private readonly directory: Pick<NodeDirectory, 'list' | 'change'>,
    private readonly cluster: Pick<KubernetesNodes, 'nodes' | 'applyNode' | 'podsOn' | 'evict' | 'deletePod'>,
    private readonly o: KubernetesNodeSyncOptions,
    private readonly logger: Logger,
  ) {}

  /** Starts (this node-manager leads) or stops (it no longer does) the passes. */
  setActive(active: boolean): void {
    this.active = active;
    clearTimeout(this.timer);
    if (active) this.kick();
  }

  /** A pass as soon as the one running (if any) ends. */
  kick(): void {
    if (!this.active) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.pass()
      .catch((err: unknown) => {
        this.logger.warn({ err: (err as Error).message }, 'kubernetes node sync failed; the next pass tries again');
        return false;
      })
      .then((draining) => {
        this.running = undefined;
        if (!this.active) return;
        if (this.again) {
          this.again = false;
          this.kick();
        } else this.timer = setTimeout(() => this.kick(), draining ? this.o.drainEveryMs : this.o.everyMs);
      });
  }

  /** One pass over every node; true while some node still drains. */
  async pass(): Promise<boolean> {
    const [views, clusterNodes] = await Promise.all([this.directory.list(), this.cluster.nodes()]);
    const byName = new Map(clusterNodes.map((n) => [n.name, n] as const));
    let draining = false;
    for (const { record } of views) {
      const node = byName.get(record.id);
      // OFFLINE: out of Wharf's hands; its Node keeps what it had (unschedulable since it left READY).
      if (!node || record.state === 'OFFLINE') continue;
      try {
        if (await this.syncOne(record, node)) draining = true;
      } catch (err) {
        this.once(record.id, `syncing kubernetes node failed: ${(err as Error).message}`);
        if (record.state === 'ERROR_DETECTED') draining = true;
      }
    }
    return draining;
  }

  private async syncOne(record: NodeRecord, node: Parameters<typeof planNode>[1]): Promise<boolean> {
    const pods = record.state === 'ERROR_DETECTED' ? await this.cluster.podsOn(node.name) : [];
    const plan = planNode(record, node, pods);
    if (plan.apply) {
      await this.cluster.applyNode(node.name, plan.apply);
      this.logger.info({ node: node.name, state: record.state, unschedulable: plan.apply.unschedulable, labels: plan.apply.labels }, 'kubernetes node applied');
    }
    for (const a of plan.pods) {
      const ref = `${a.pod.namespace}/${a.pod.name}`;
      if (a.kind === 'force-delete') {
        await this.cluster.deletePod(a.pod, { force: true });
        this.logger.info({ node: node.name, pod: ref, why: a.why }, 'pod force-deleted');
        continue;
      }
      const r = await this.cluster.evict(a.pod);
      if (r === 'evicted') this.logger.info({ node: node.name, pod: ref }, 'pod evicted');
      else if (r !== 'gone') {
        if (a.forceIfBlocked) {
          // Unready on a node without a kubelet: it is unavailable already, its budget cannot be helped by waiting.
          await this.cluster.deletePod(a.pod, { force: true });
          this.logger.info({ node: node.name, pod: ref, blocked: r.blocked }, 'pod force-deleted: unready on a NotReady node, its eviction blocked');
        } else this.once(`${node.name}/${ref}`, `eviction of ${ref} waits: ${r.blocked}`);
      }
    }
    if (plan.migrated) {
      const moved = await this.directory.change(record.id, 'migrated', {
        reason: `kubernetes node ${node.name} drained: none of its pods is left on it`,
        actor: 'service:node-manager',
        ifAllowed: true,
      });
      if (moved) {
        this.logger.warn({ node: node.name }, 'node drained: ERROR');
        this.o.onMigrated?.(record.id);
      }
      return false;
    }
    return record.state === 'ERROR_DETECTED';
  }

  private once(key: string, message: string): void {
    if (this.said.get(key) === message) return;
    this.said.set(key, message);
    this.logger.warn({ key }, message);
  }

  async stop(): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    await this.running;
  }
}
