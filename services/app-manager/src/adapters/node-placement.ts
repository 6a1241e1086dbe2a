import { placementBlocker, type NodeDirectory } from '@wharf/nodes';
import type { PlacementGate } from '../domain/placement-gate';

/**
 * The nodes as node-manager and api-gateway wrote them (node/<id> streams, read fresh on every
 * ask so a cordon is seen by the very next deploy). A data center where no node ever registered
 * (no node-manager runs) is not gated: the Docker host is then its only, unmanaged, node.
 */
export class NodePlacement implements PlacementGate {
  constructor(private readonly nodes: Pick<NodeDirectory, 'list'>) {}

  async blocker(placement: Record<string, string> = {}): Promise<string | undefined> {
    const nodes = await this.nodes.list();
    if (nodes.length === 0) return undefined;
    return placementBlocker(
      nodes.map((n) => n.record),
      placement,
    );
  }
}
