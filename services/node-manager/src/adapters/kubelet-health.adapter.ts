import type { KubernetesNodes } from '@wharf/runtime';
import type { RuntimeHealth } from '../agent/node-agent';

/**
 * runtime_reachable and clock_skew on Kubernetes: the node's runtime is its kubelet, which
 * reports its container runtime's health in its Node's Ready condition; the reference clock is
 * the API server's. A node whose kubelet stops is failed by its own node-manager (and drained)
 * after failAfter rounds, as a dead Docker Engine is.
 */
export class KubeletHealth implements RuntimeHealth {
  readonly clockReference = "the Kubernetes API server's clock";

  constructor(
    private readonly nodes: Pick<KubernetesNodes, 'node' | 'skewMs'>,
    private readonly nodeName: string,
  ) {}

  get description(): string {
    return `kubelet of Kubernetes node ${this.nodeName}`;
  }

  async ping(): Promise<string> {
    const node = await this.nodes.node(this.nodeName);
    if (!node) throw new Error(`the cluster has no node ${this.nodeName} (is the kubelet registered under this name? WHARF_NODE_ID must be the node name)`);
    if (!node.ready) throw new Error(`node is not Ready: ${node.readyMessage}`);
    return `Ready (${node.readyMessage})`;
  }

  skewMs(now: () => number): Promise<number> {
    return this.nodes.skewMs(now);
  }
}
