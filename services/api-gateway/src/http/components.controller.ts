import { Body, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Res } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import type { Principal } from '@wharf/identity';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { ComponentsService } from '../domain/components.service';
import { RuntimeStatusService } from '../domain/runtime-status.service';
import * as S from '../domain/schemas';
import { componentJson } from '../domain/views/component.view';
import { ApiController, JSON_TYPE } from './api-controller.decorator';
import { Caller } from './caller';
import { bodySchema } from './openapi';
import { QueryParams, ValidQuery } from './query-params';
import { parseBody, parseIfMatch, pathId } from './validation';

/** Components; the component's ETag (its stream version) guards changes. */
@ApiController('components')
export class ComponentsController {
  constructor(
    private readonly components: ComponentsService,
    private readonly runtime: RuntimeStatusService,
  ) {}

  @Post('tenants/:tenant/apps/:app/components')
  @ApiBody(bodySchema(S.createComponentSchema))
  async createComponent(
    @Caller() p: Principal,
    @Param('tenant') tenant: string,
    @Param('app') app: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const view = await this.components.createComponent(p, pathId(tenant, 'tenant'), pathId(app, 'app'), parseBody(S.createComponentSchema, body));
    res.header('ETag', `"${view.version}"`);
    return view;
  }

  @Get('tenants/:tenant/apps/:app/components')
  @QueryParams(S.pageSchema)
  listComponents(
    @Caller() p: Principal,
    @Param('tenant') tenant: string,
    @Param('app') app: string,
    @ValidQuery() q: z.infer<typeof S.pageSchema>,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    res.header('Content-Type', JSON_TYPE);
    return this.components.listComponentsJson(p, pathId(tenant, 'tenant'), pathId(app, 'app'), q);
  }

  @Get('tenants/:tenant/components/:component')
  getComponent(@Caller() p: Principal, @Param('tenant') tenant: string, @Param('component') component: string, @Res({ passthrough: true }) res: FastifyReply) {
    const c = this.components.getComponent(p, pathId(tenant, 'tenant'), pathId(component, 'component'));
    res.header('ETag', `"${c.version}"`);
    res.header('Content-Type', JSON_TYPE);
    return componentJson(c);
  }

  /** What really runs (app-manager's report): state with its reason, versions, replicas. */
  @Get('tenants/:tenant/components/:component/status')
  componentStatus(@Caller() p: Principal, @Param('tenant') tenant: string, @Param('component') component: string) {
    return this.runtime.componentStatus(p, pathId(tenant, 'tenant'), pathId(component, 'component'));
  }

  @Put('tenants/:tenant/components/:component')
  @ApiBody(bodySchema(S.componentSpecSchema))
  async updateComponent(
    @Caller() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const view = await this.components.updateComponent(
      p,
      pathId(tenant, 'tenant'),
      pathId(component, 'component'),
      parseBody(S.componentSpecSchema, body),
      parseIfMatch(ifMatch),
    );
    res.header('ETag', `"${view.version}"`);
    return view;
  }

  /** Only the fields given (routes, tcp_ports); a TLS route without private_key_pem keeps its stored key. */
  @Patch('tenants/:tenant/components/:component')
  @ApiBody(bodySchema(S.componentPatchSchema))
  async patchComponent(
    @Caller() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const view = await this.components.patchComponent(
      p,
      pathId(tenant, 'tenant'),
      pathId(component, 'component'),
      parseBody(S.componentPatchSchema, body),
      parseIfMatch(ifMatch),
    );
    res.header('ETag', `"${view.version}"`);
    return view;
  }

  @Delete('tenants/:tenant/components/:component')
  @HttpCode(202)
  @QueryParams(S.queueQuerySchema)
  deleteComponent(
    @Caller() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @ValidQuery() q: z.infer<typeof S.queueQuerySchema>,
  ) {
    return this.components.deleteComponent(p, pathId(tenant, 'tenant'), pathId(component, 'component'), parseIfMatch(ifMatch), q.queue === 'true');
  }
}
