import { Body, Delete, Get, Headers, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import type { Principal } from '@wharf/identity';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import * as S from '../domain/schemas';
import { TenantsService } from '../domain/tenants.service';
import { ApiController } from './api-controller.decorator';
import { Caller } from './caller';
import { bodySchema } from './openapi';
import { QueryParams, ValidQuery } from './query-params';
import { parseBody, parseIfMatch, pathId } from './validation';

/** Tenants, members and quotas; the tenant's ETag guards every change to it. */
@ApiController('tenants')
export class TenantsController {
  constructor(private readonly tenants: TenantsService) {}

  private etag(res: FastifyReply, tenantId: string): void {
    res.header('ETag', `"${this.tenants.tenantVersion(tenantId)}"`);
  }

  @Post('tenants')
  @ApiBody(bodySchema(S.createTenantSchema))
  createTenant(@Caller() p: Principal, @Body() body: unknown) {
    return this.tenants.createTenant(p, parseBody(S.createTenantSchema, body));
  }

  @Get('tenants')
  @QueryParams(S.pageSchema)
  listTenants(@Caller() p: Principal, @ValidQuery() q: z.infer<typeof S.pageSchema>) {
    return this.tenants.listTenants(p, q);
  }

  @Get('tenants/:tenant')
  getTenant(@Caller() p: Principal, @Param('tenant') tenant: string, @Res({ passthrough: true }) res: FastifyReply) {
    const view = this.tenants.getTenant(p, pathId(tenant, 'tenant'));
    this.etag(res, view.id);
    return view;
  }

  @Get('tenants/:tenant/members')
  @QueryParams(S.memberPageSchema)
  listMembers(
    @Caller() p: Principal,
    @Param('tenant') tenant: string,
    @ValidQuery() q: z.infer<typeof S.memberPageSchema>,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const page = this.tenants.listMembers(p, pathId(tenant, 'tenant'), q);
    this.etag(res, tenant);
    return page;
  }

  @Post('tenants/:tenant/members')
  @ApiBody(bodySchema(S.memberSchema))
  async addMember(
    @Caller() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const m = parseBody(S.memberSchema, body);
    const out = await this.tenants.setMember(p, pathId(tenant, 'tenant'), m.user_id, m.role, parseIfMatch(ifMatch));
    this.etag(res, tenant);
    return out;
  }

  @Put('tenants/:tenant/members/:user')
  @ApiBody(bodySchema(S.memberRoleSchema))
  async setMember(
    @Caller() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Param('user') user: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const out = await this.tenants.setMember(
      p,
      pathId(tenant, 'tenant'),
      pathId(user, 'user'),
      parseBody(S.memberRoleSchema, body).role,
      parseIfMatch(ifMatch),
    );
    this.etag(res, tenant);
    return out;
  }

  @Delete('tenants/:tenant/members/:user')
  @HttpCode(204)
  async removeMember(@Caller() p: Principal, @Headers('if-match') ifMatch: string | undefined, @Param('tenant') tenant: string, @Param('user') user: string) {
    await this.tenants.removeMember(p, pathId(tenant, 'tenant'), pathId(user, 'user'), parseIfMatch(ifMatch));
  }

  @Get('tenants/:tenant/quota')
  getQuota(@Caller() p: Principal, @Param('tenant') tenant: string, @Res({ passthrough: true }) res: FastifyReply) {
    const quota = this.tenants.getQuota(p, pathId(tenant, 'tenant'));
    this.etag(res, tenant);
    return quota;
  }

  @Put('tenants/:tenant/quota')
  @ApiBody(bodySchema(S.quotaSchema))
  async setQuota(
    @Caller() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const quota = await this.tenants.setQuota(p, pathId(tenant, 'tenant'), parseBody(S.quotaSchema, body), parseIfMatch(ifMatch));
    this.etag(res, tenant);
    return quota;
  }
}
