import { Body, Get, Headers, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import type { Principal } from '@wharf/identity';
import { NodesService } from '../domain/nodes.service';
import * as S from '../domain/schemas';
import { ApiController } from './api-controller.decorator';
import { Caller } from './caller';
import { bodySchema } from './openapi';
import { parseBody, parseIfMatch, pathId } from './validation';

/** The data center's nodes: administrators only (403 for everyone else, before the body is read). */
@ApiController('nodes')
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  @Get('nodes')
  list(@Caller() p: Principal) {
    return this.nodes.list(p);
  }

  @Get('nodes/:node')
  get(@Caller() p: Principal, @Param('node') node: string) {
    return this.nodes.get(p, node);
  }

  @Post('nodes/:node/state')
  @HttpCode(200)
  @ApiBody(bodySchema(S.nodeStateSchema))
  changeState(@Caller() p: Principal, @Headers('if-match') ifMatch: string | undefined, @Param('node') node: string, @Body() body: unknown) {
    this.nodes.requireAdmin(p);
    const b = parseBody(S.nodeStateSchema, body);
    return this.nodes.changeState(p, node, b.action, b.reason, parseIfMatch(ifMatch));
  }

  @Put('nodes/:node/labels')
  @ApiBody(bodySchema(S.nodeLabelsSchema))
  setLabels(@Caller() p: Principal, @Headers('if-match') ifMatch: string | undefined, @Param('node') node: string, @Body() body: unknown) {
    this.nodes.requireAdmin(p);
    return this.nodes.setLabels(p, node, parseBody(S.nodeLabelsSchema, body).labels, parseIfMatch(ifMatch));
  }

  @Put('nodes/:node/roles')
  @ApiBody(bodySchema(S.nodeRolesSchema))
  setRoles(@Caller() p: Principal, @Headers('if-match') ifMatch: string | undefined, @Param('node') node: string, @Body() body: unknown) {
    this.nodes.requireAdmin(p);
    return this.nodes.setRoles(p, node, parseBody(S.nodeRolesSchema, body).roles, parseIfMatch(ifMatch));
  }

  @Post('node-tasks')
  @HttpCode(202)
  @ApiBody(bodySchema(S.nodeTaskSchema))
  runTask(@Caller() p: Principal, @Body() body: unknown) {
    this.nodes.requireAdmin(p);
    const b = parseBody(S.nodeTaskSchema, body);
    return this.nodes.runTask(p, b.task, b.nodes);
  }

  @Get('node-tasks/:event')
  getTask(@Caller() p: Principal, @Param('event') event: string) {
    return this.nodes.getTask(p, pathId(event, 'event'));
  }
}
