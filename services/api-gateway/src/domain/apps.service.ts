import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { ConflictError } from '@wharf/errors';
import type { Principal } from '@wharf/identity';
import type { AppView } from './catalog';
import type { GatewayContext } from './gateway-context';
import { mapPage, paginate, type PageQuery } from './pagination';
import { assertAppQuota } from './quota';
import { appView } from './views/app.view';

/** Apps: the groups of components of a tenant. */
export class AppsService {
  constructor(private readonly ctx: GatewayContext) {}

  private view = (a: AppView) => appView(a, this.ctx.catalog.componentsByApp.get(a.id)?.size ?? 0);

  private liveApps(tenantId: string): AppView[] {
    return [...this.ctx.catalog.apps.values()].filter((a) => a.tenantId === tenantId && !a.deleted);
  }

  async createApp(p: Principal, tenantId: string, body: { name: string; description: string }) {
    const { tenant } = this.ctx.tenantFor(p, tenantId, 'write');
    const id = `${tenantId}.${body.name}`;
    const existing = this.ctx.catalog.apps.get(id);
    if (existing && !existing.deleted) throw new ConflictError(`app ${body.name} already exists in tenant ${tenantId}`);
    assertAppQuota(tenant, this.liveApps(tenantId).length);
    await this.ctx.append(
      `app/${id}`,
      [create(eventsV1.AppCreatedSchema, { appId: id, tenantId, name: body.name, description: body.description })],
      existing?.version ?? 0,
      p,
    );
    return this.view(this.ctx.catalog.apps.get(id)!);
  }

  listApps(p: Principal, tenantId: string, q: PageQuery & { name?: string }) {
    this.ctx.tenantFor(p, tenantId, 'read');
    return mapPage(
      paginate(
        this.liveApps(tenantId).filter((a) => !q.name || a.name.includes(q.name)),
        (a) => a.id,
        q,
      ),
      this.view,
    );
  }

  getApp(p: Principal, tenantId: string, appId: string) {
    return this.view(this.ctx.appFor(p, tenantId, appId, 'read'));
  }

  async deleteApp(p: Principal, tenantId: string, appId: string) {
    const app = this.ctx.appFor(p, tenantId, appId, 'write');
    if (this.ctx.catalog.componentsByApp.get(appId)?.size) throw new ConflictError(`app ${appId} still has components; delete them first`);
    await this.ctx.append(`app/${appId}`, [create(eventsV1.AppDeletedSchema, { appId })], app.version, p);
  }
}
