import { Body, Get, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import { invalidArgument } from '@wharf/errors';
import type { Principal } from '@wharf/identity';
import type { z } from 'zod';
import { OperationsService } from '../domain/operations.service';
import * as S from '../domain/schemas';
import { ApiController } from './api-controller.decorator';
import { Caller } from './caller';
import { bodySchema } from './openapi';
import { QueryParams, ValidQuery } from './query-params';
import { parseBody, parseIfMatch, pathId } from './validation';

@ApiController('operations')
export class OperationsController {
  constructor(private readonly operations: OperationsService) {}

  @Post('tenants/:tenant/components/:component/operations')
  @HttpCode(202)
  @ApiBody(bodySchema(S.operationSchema, 'kind'))
  @QueryParams(S.queueQuerySchema)
  requestOperation(
    @Caller() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @Body() body: unknown,
    @ValidQuery() q: z.infer<typeof S.queueQuerySchema>,
  ) {
    const op = parseBody(S.operationSchema, body);
    if (q.queue === 'true') {
      if (!('queue' in op)) throw invalidArgument('queue', `a ${op.kind} acts on the running rollout and never waits behind it`);
      op.queue = true;
    }
    return this.operations.requestOperation(p, pathId(tenant, 'tenant'), pathId(component, 'component'), op, parseIfMatch(ifMatch));
  }

  @Get('tenants/:tenant/operations')
  @QueryParams(S.operationPageSchema)
  listOperations(@Caller() p: Principal, @Param('tenant') tenant: string, @ValidQuery() q: z.infer<typeof S.operationPageSchema>) {
    return this.operations.listOperations(p, pathId(tenant, 'tenant'), q);
  }

  @Get('tenants/:tenant/operations/:event')
  getOperation(@Caller() p: Principal, @Param('tenant') tenant: string, @Param('event') event: string) {
    return this.operations.getOperation(p, pathId(tenant, 'tenant'), pathId(event, 'operation'));
  }
}
