import type { appmanagerV1 } from '@wharf/contracts';
import type { Principal } from '@wharf/identity';
import type { GatewayContext } from './gateway-context';
import { runtimeStatusView } from './views/runtime-status.view';

/** What app-manager last reported of a component (its status key in etcd); a port so the use case runs without etcd. */
export interface RuntimeStatusSource {
  statusOf(componentId: string): Promise<appmanagerV1.ComponentStatus | undefined>;
}

/** What really runs: the component's state, versions and replicas as app-manager sees them. */
export class RuntimeStatusService {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly source: RuntimeStatusSource,
  ) {}

  async componentStatus(p: Principal, tenantId: string, componentId: string) {
    const c = this.ctx.componentFor(p, tenantId, componentId, 'read');
    const status = await this.source.statusOf(c.id);
    // The status key is app-manager's; a component of another tenant under this id is never shown.
    return runtimeStatusView(c.id, status && status.tenantId === c.tenantId ? status : undefined);
  }
}
