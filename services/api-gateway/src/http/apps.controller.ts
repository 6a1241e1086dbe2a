import { Body, Delete, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import type { Principal } from '@wharf/identity';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { AppsService } from '../domain/apps.service';
import * as S from '../domain/schemas';
import { ApiController } from './api-controller.decorator';
import { Caller } from './caller';
import { bodySchema } from './openapi';
import { QueryParams, ValidQuery } from './query-params';
import { parseBody, pathId } from './validation';

@ApiController('apps')
export class AppsController {
  constructor(private readonly apps: AppsService) {}

  @Post('tenants/:tenant/apps')
  @ApiBody(bodySchema(S.createAppSchema))
  createApp(@Caller() p: Principal, @Param('tenant') tenant: string, @Body() body: unknown) {
    return this.apps.createApp(p, pathId(tenant, 'tenant'), parseBody(S.createAppSchema, body));
  }

  @Get('tenants/:tenant/apps')
  @QueryParams(S.pageSchema)
  listApps(@Caller() p: Principal, @Param('tenant') tenant: string, @ValidQuery() q: z.infer<typeof S.pageSchema>) {
    return this.apps.listApps(p, pathId(tenant, 'tenant'), q);
  }

  @Get('tenants/:tenant/apps/:app')
  getApp(@Caller() p: Principal, @Param('tenant') tenant: string, @Param('app') app: string, @Res({ passthrough: true }) res: FastifyReply) {
    const view = this.apps.getApp(p, pathId(tenant, 'tenant'), pathId(app, 'app'));
    res.header('ETag', `"${view.version}"`);
    return view;
  }

  @Delete('tenants/:tenant/apps/:app')
  @HttpCode(204)
  async deleteApp(@Caller() p: Principal, @Param('tenant') tenant: string, @Param('app') app: string) {
    await this.apps.deleteApp(p, pathId(tenant, 'tenant'), pathId(app, 'app'));
  }
}
