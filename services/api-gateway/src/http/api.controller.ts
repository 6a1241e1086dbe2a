import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { Gateway } from '../domain/gateway';
import * as S from '../domain/schemas';
import { parse, parseIfMatch, pathId, versionId } from './validation';

export const GATEWAY = Symbol('gateway');
/** Hot reads answer pre-serialised JSON text; the type must still say JSON. */
const JSON_TYPE = 'application/json; charset=utf-8';

const schema = (s: z.ZodType) => ({ schema: z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as object });

/** REST /api/v1. Handlers only translate HTTP <-> the Gateway's use cases. */
@ApiBearerAuth()
@Controller('api/v1')
export class ApiController {
  constructor(@Inject(GATEWAY) private readonly gw: Gateway) {}

  @ApiTags('identity')
  @Get('me')
  me(@Headers('authorization') auth?: string) {
    return this.gw.me(this.gw.authenticate(auth));
  }

  @ApiTags('identity')
  @Post('users')
  @ApiBody(schema(S.createUserSchema))
  createUser(@Headers('authorization') auth: string, @Body() body: unknown) {
    const p = this.gw.authenticate(auth);
    return this.gw.createUser(p, parse(S.createUserSchema, body, 'body'));
  }

  @ApiTags('identity')
  @Get('users')
  listUsers(@Headers('authorization') auth: string, @Query() q: unknown) {
    const p = this.gw.authenticate(auth);
    return this.gw.listUsers(p, parse(S.pageSchema, q, 'query'));
  }

  @ApiTags('identity')
  @Post('users/:user/tokens')
  @ApiBody(schema(S.createTokenSchema))
  createToken(@Headers('authorization') auth: string, @Param('user') user: string, @Body() body: unknown) {
    const p = this.gw.authenticate(auth);
    return this.gw.createToken(p, pathId(user, 'user'), parse(S.createTokenSchema, body, 'body'));
  }

  @ApiTags('identity')
  @Get('tokens')
  listTokens(@Headers('authorization') auth: string, @Query() q: unknown) {
    const p = this.gw.authenticate(auth);
    return this.gw.listTokens(p, parse(S.pageSchema, q, 'query'));
  }

  @ApiTags('identity')
  @Delete('tokens/:token')
  @HttpCode(204)
  async revokeToken(@Headers('authorization') auth: string, @Param('token') token: string) {
    const p = this.gw.authenticate(auth);
    await this.gw.revokeToken(p, pathId(token, 'token'));
  }

  @ApiTags('tenants')
  @Post('tenants')
  @ApiBody(schema(S.createTenantSchema))
  createTenant(@Headers('authorization') auth: string, @Body() body: unknown) {
    const p = this.gw.authenticate(auth);
    return this.gw.createTenant(p, parse(S.createTenantSchema, body, 'body'));
  }

  @ApiTags('tenants')
  @Get('tenants')
  listTenants(@Headers('authorization') auth: string, @Query() q: unknown) {
    const p = this.gw.authenticate(auth);
    return this.gw.listTenants(p, parse(S.pageSchema, q, 'query'));
  }

  @ApiTags('tenants')
  @Get('tenants/:tenant')
  getTenant(@Headers('authorization') auth: string, @Param('tenant') tenant: string, @Res({ passthrough: true }) res: Response) {
    const p = this.gw.authenticate(auth);
    const view = this.gw.getTenant(p, pathId(tenant, 'tenant'));
    res.setHeader('ETag', `"${this.gw.tenantVersion(view.id)}"`);
    return view;
  }

  @ApiTags('tenants')
  @Get('tenants/:tenant/members')
  listMembers(@Headers('authorization') auth: string, @Param('tenant') tenant: string, @Query() q: unknown, @Res({ passthrough: true }) res: Response) {
    const p = this.gw.authenticate(auth);
    const page = this.gw.listMembers(p, pathId(tenant, 'tenant'), parse(S.pageSchema, q, 'query'));
    res.setHeader('ETag', `"${this.gw.tenantVersion(tenant)}"`);
    return page;
  }

  @ApiTags('tenants')
  @Post('tenants/:tenant/members')
  @ApiBody(schema(S.memberSchema))
  async addMember(
    @Headers('authorization') auth: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const p = this.gw.authenticate(auth);
    const m = parse(S.memberSchema, body, 'body');
    const out = await this.gw.setMember(p, pathId(tenant, 'tenant'), m.user_id, m.role, parseIfMatch(ifMatch));
    res.setHeader('ETag', `"${this.gw.tenantVersion(tenant)}"`);
    return out;
  }

  @ApiTags('tenants')
  @Put('tenants/:tenant/members/:user')
  @ApiBody(schema(S.memberRoleSchema))
  async setMember(
    @Headers('authorization') auth: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Param('user') user: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const p = this.gw.authenticate(auth);
    const out = await this.gw.setMember(p, pathId(tenant, 'tenant'), pathId(user, 'user'), parse(S.memberRoleSchema, body, 'body').role, parseIfMatch(ifMatch));
    res.setHeader('ETag', `"${this.gw.tenantVersion(tenant)}"`);
    return out;
  }

  @ApiTags('tenants')
  @Delete('tenants/:tenant/members/:user')
  @HttpCode(204)
  async removeMember(
    @Headers('authorization') auth: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Param('user') user: string,
  ) {
    const p = this.gw.authenticate(auth);
    await this.gw.removeMember(p, pathId(tenant, 'tenant'), pathId(user, 'user'), parseIfMatch(ifMatch));
  }

  @ApiTags('tenants')
  @Get('tenants/:tenant/quota')
  getQuota(@Headers('authorization') auth: string, @Param('tenant') tenant: string, @Res({ passthrough: true }) res: Response) {
    const p = this.gw.authenticate(auth);
    const quota = this.gw.getTenant(p, pathId(tenant, 'tenant')).quota;
    res.setHeader('ETag', `"${this.gw.tenantVersion(tenant)}"`);
    return quota;
  }

  @ApiTags('tenants')
  @Put('tenants/:tenant/quota')
  @ApiBody(schema(S.quotaSchema))
  async setQuota(
    @Headers('authorization') auth: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const p = this.gw.authenticate(auth);
    const quota = await this.gw.setQuota(p, pathId(tenant, 'tenant'), parse(S.quotaSchema, body, 'body'), parseIfMatch(ifMatch));
    res.setHeader('ETag', `"${this.gw.tenantVersion(tenant)}"`);
    return quota;
  }

  @ApiTags('apps')
  @Post('tenants/:tenant/apps')
  @ApiBody(schema(S.createAppSchema))
  createApp(@Headers('authorization') auth: string, @Param('tenant') tenant: string, @Body() body: unknown) {
    const p = this.gw.authenticate(auth);
    return this.gw.createApp(p, pathId(tenant, 'tenant'), parse(S.createAppSchema, body, 'body'));
  }

  @ApiTags('apps')
  @Get('tenants/:tenant/apps')
  listApps(@Headers('authorization') auth: string, @Param('tenant') tenant: string, @Query() q: unknown) {
    const p = this.gw.authenticate(auth);
    return this.gw.listApps(p, pathId(tenant, 'tenant'), parse(S.pageSchema, q, 'query'));
  }

  @ApiTags('apps')
  @Get('tenants/:tenant/apps/:app')
  getApp(@Headers('authorization') auth: string, @Param('tenant') tenant: string, @Param('app') app: string, @Res({ passthrough: true }) res: Response) {
    const p = this.gw.authenticate(auth);
    const view = this.gw.getApp(p, pathId(tenant, 'tenant'), pathId(app, 'app'));
    res.setHeader('ETag', `"${view.version}"`);
    return view;
  }

  @ApiTags('apps')
  @Delete('tenants/:tenant/apps/:app')
  @HttpCode(204)
  async deleteApp(@Headers('authorization') auth: string, @Param('tenant') tenant: string, @Param('app') app: string) {
    const p = this.gw.authenticate(auth);
    await this.gw.deleteApp(p, pathId(tenant, 'tenant'), pathId(app, 'app'));
  }

  @ApiTags('components')
  @Post('tenants/:tenant/apps/:app/components')
  @ApiBody(schema(S.createComponentSchema))
  async createComponent(
    @Headers('authorization') auth: string,
    @Param('tenant') tenant: string,
    @Param('app') app: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const p = this.gw.authenticate(auth);
    const view = await this.gw.createComponent(p, pathId(tenant, 'tenant'), pathId(app, 'app'), parse(S.createComponentSchema, body, 'body'));
    res.setHeader('ETag', `"${view.version}"`);
    return view;
  }

  @ApiTags('components')
  @Get('tenants/:tenant/apps/:app/components')
  listComponents(
    @Headers('authorization') auth: string,
    @Param('tenant') tenant: string,
    @Param('app') app: string,
    @Query() q: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const p = this.gw.authenticate(auth);
    res.setHeader('Content-Type', JSON_TYPE);
    return this.gw.listComponentsJson(p, pathId(tenant, 'tenant'), pathId(app, 'app'), parse(S.pageSchema, q, 'query'));
  }

  @ApiTags('components')
  @Get('tenants/:tenant/components/:component')
  getComponent(
    @Headers('authorization') auth: string,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @Res({ passthrough: true }) res: Response,
  ) {
    const p = this.gw.authenticate(auth);
    const c = this.gw.component(p, pathId(tenant, 'tenant'), pathId(component, 'component'), 'read');
    res.setHeader('ETag', `"${c.version}"`);
    res.setHeader('Content-Type', JSON_TYPE);
    return this.gw.componentJson(c);
  }

  @ApiTags('components')
  @Put('tenants/:tenant/components/:component')
  @ApiBody(schema(S.componentSpecSchema))
  async updateComponent(
    @Headers('authorization') auth: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const p = this.gw.authenticate(auth);
    const view = await this.gw.updateComponent(
      p,
      pathId(tenant, 'tenant'),
      pathId(component, 'component'),
      parse(S.componentSpecSchema, body, 'body'),
      parseIfMatch(ifMatch),
    );
    res.setHeader('ETag', `"${view.version}"`);
    return view;
  }

  @ApiTags('components')
  @Delete('tenants/:tenant/components/:component')
  @HttpCode(202)
  deleteComponent(
    @Headers('authorization') auth: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @Query() q: unknown,
  ) {
    const p = this.gw.authenticate(auth);
    return this.gw.deleteComponent(
      p,
      pathId(tenant, 'tenant'),
      pathId(component, 'component'),
      parseIfMatch(ifMatch),
      parse(S.queueQuerySchema, q, 'query').queue === 'true',
    );
  }

  @ApiTags('versions')
  @Get('tenants/:tenant/components/:component/versions')
  listVersions(@Headers('authorization') auth: string, @Param('tenant') tenant: string, @Param('component') component: string, @Query() q: unknown) {
    const p = this.gw.authenticate(auth);
    return this.gw.listVersions(p, pathId(tenant, 'tenant'), pathId(component, 'component'), parse(S.versionPageSchema, q, 'query'));
  }

  @ApiTags('versions')
  @Get('tenants/:tenant/components/:component/versions/:version')
  getVersion(
    @Headers('authorization') auth: string,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @Param('version') version: string,
  ) {
    const p = this.gw.authenticate(auth);
    return this.gw.getVersion(p, pathId(tenant, 'tenant'), pathId(component, 'component'), versionId(version));
  }

  @ApiTags('operations')
  @Post('tenants/:tenant/components/:component/operations')
  @HttpCode(202)
  @ApiBody(schema(S.operationSchema))
  requestOperation(
    @Headers('authorization') auth: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @Body() body: unknown,
    @Query() q: unknown,
  ) {
    const p = this.gw.authenticate(auth);
    const op = parse(S.operationSchema, body, 'body');
    if (parse(S.queueQuerySchema, q, 'query').queue === 'true') op.queue = true;
    return this.gw.requestOperation(p, pathId(tenant, 'tenant'), pathId(component, 'component'), op, parseIfMatch(ifMatch));
  }

  @ApiTags('operations')
  @Get('tenants/:tenant/operations')
  listOperations(@Headers('authorization') auth: string, @Param('tenant') tenant: string, @Query() q: unknown) {
    const p = this.gw.authenticate(auth);
    return this.gw.listOperations(p, pathId(tenant, 'tenant'), parse(S.pageSchema, q, 'query'));
  }

  @ApiTags('operations')
  @Get('tenants/:tenant/operations/:event')
  getOperation(@Headers('authorization') auth: string, @Param('tenant') tenant: string, @Param('event') event: string) {
    const p = this.gw.authenticate(auth);
    return this.gw.getOperation(p, pathId(tenant, 'tenant'), pathId(event, 'operation'));
  }
}
