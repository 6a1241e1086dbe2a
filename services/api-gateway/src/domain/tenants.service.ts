import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { ConflictError, invalidArgument, NotFoundError } from '@wharf/errors';
import { roleValue, type Principal, type RoleName } from '@wharf/identity';
import type { GatewayContext } from './gateway-context';
import { expectedVersion } from './if-match';
import { mapPage, paginate, type PageQuery } from './pagination';
import type { quotaSchema } from './schemas';
import { quotaView, tenantView } from './views/tenant.view';
import type { z } from 'zod';

/** Tenants, their members and quotas; every change to a tenant is guarded by its ETag (If-Match). */
export class TenantsService {
  constructor(private readonly ctx: GatewayContext) {}

  async createTenant(p: Principal, body: { name: string }) {
    this.ctx.requireAdmin(p);
    if (this.ctx.catalog.identity.tenants.has(body.name)) throw new ConflictError(`tenant ${body.name} already exists`);
    await this.ctx.append(`tenant/${body.name}`, [create(eventsV1.TenantCreatedSchema, { tenantId: body.name, name: body.name })], 0, p);
    return tenantView(this.ctx.catalog.identity.tenants.get(body.name)!);
  }

  listTenants(p: Principal, q: PageQuery & { name?: string }) {
    const identity = this.ctx.catalog.identity;
    const visible = [...identity.tenants.values()].filter((t) => identity.roleIn(p, t.id) && (!q.name || t.name.includes(q.name)));
    return mapPage(
      paginate(visible, (t) => t.id, q),
      tenantView,
    );
  }

  getTenant(p: Principal, tenantId: string) {
    return tenantView(this.ctx.tenantFor(p, tenantId, 'read').tenant);
  }

  /** The tenant stream's version: its ETag. */
  tenantVersion(tenantId: string): number {
    return this.ctx.catalog.identity.tenants.get(tenantId)?.version ?? 0;
  }

  listMembers(p: Principal, tenantId: string, q: PageQuery & { name?: string; role?: RoleName }) {
    const { tenant } = this.ctx.tenantFor(p, tenantId, 'read');
    const members = [...tenant.members]
      .map(([user_id, role]) => ({ user_id, role }))
      .filter((m) => (!q.role || m.role === q.role) && (!q.name || m.user_id.includes(q.name)));
    return paginate(members, (m) => m.user_id, q);
  }

  async setMember(p: Principal, tenantId: string, userId: string, role: RoleName, ifMatch?: number) {
    const { tenant } = this.ctx.tenantFor(p, tenantId, 'manage-members');
    if (!this.ctx.catalog.identity.users.has(userId)) throw invalidArgument('user_id', `no user ${userId}`);
    await this.ctx.append(
      `tenant/${tenantId}`,
      [create(eventsV1.MemberSetSchema, { tenantId, userId, role: roleValue[role] })],
      expectedVersion(`tenant ${tenantId}`, tenant.version, ifMatch),
      p,
    );
    return { user_id: userId, role };
  }

  async removeMember(p: Principal, tenantId: string, userId: string, ifMatch?: number) {
    const { tenant } = this.ctx.tenantFor(p, tenantId, 'manage-members');
    if (!tenant.members.has(userId)) throw new NotFoundError(`member ${userId} not found`);
    await this.ctx.append(
      `tenant/${tenantId}`,
      [create(eventsV1.MemberRemovedSchema, { tenantId, userId })],
      expectedVersion(`tenant ${tenantId}`, tenant.version, ifMatch),
      p,
    );
  }

  getQuota(p: Principal, tenantId: string) {
    return quotaView(this.ctx.tenantFor(p, tenantId, 'read').tenant);
  }

  async setQuota(p: Principal, tenantId: string, q: z.infer<typeof quotaSchema>, ifMatch?: number) {
    const { tenant } = this.ctx.tenantFor(p, tenantId, 'read');
    this.ctx.requireAdmin(p);
    await this.ctx.append(
      `tenant/${tenantId}`,
      [
        create(eventsV1.QuotaSetSchema, {
          tenantId,
          maxApps: q.max_apps,
          maxComponents: q.max_components,
          maxCpuMillis: q.max_cpu_millis,
          maxMemoryMib: q.max_memory_mib,
        }),
      ],
      expectedVersion(`tenant ${tenantId}`, tenant.version, ifMatch),
      p,
    );
    return quotaView(this.ctx.catalog.identity.tenants.get(tenantId)!);
  }
}
