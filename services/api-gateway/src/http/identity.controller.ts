import { Body, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import type { Principal } from '@wharf/identity';
import type { z } from 'zod';
import { IdentityService } from '../domain/identity.service';
import * as S from '../domain/schemas';
import { ApiController } from './api-controller.decorator';
import { Caller } from './caller';
import { bodySchema } from './openapi';
import { QueryParams, ValidQuery } from './query-params';
import { parseBody, pathId } from './validation';

@ApiController('identity')
export class IdentityController {
  constructor(private readonly identity: IdentityService) {}

  @Get('me')
  me(@Caller() p: Principal) {
    return this.identity.me(p);
  }

  @Post('users')
  @ApiBody(bodySchema(S.createUserSchema))
  createUser(@Caller() p: Principal, @Body() body: unknown) {
    return this.identity.createUser(p, parseBody(S.createUserSchema, body));
  }

  @Get('users')
  @QueryParams(S.pageSchema)
  listUsers(@Caller() p: Principal, @ValidQuery() q: z.infer<typeof S.pageSchema>) {
    return this.identity.listUsers(p, q);
  }

  @Post('users/:user/tokens')
  @ApiBody(bodySchema(S.createTokenSchema))
  createToken(@Caller() p: Principal, @Param('user') user: string, @Body() body: unknown) {
    return this.identity.createToken(p, pathId(user, 'user'), parseBody(S.createTokenSchema, body));
  }

  @Get('tokens')
  @QueryParams(S.pageSchema)
  listTokens(@Caller() p: Principal, @ValidQuery() q: z.infer<typeof S.pageSchema>) {
    return this.identity.listTokens(p, q);
  }

  @Delete('tokens/:token')
  @HttpCode(204)
  async revokeToken(@Caller() p: Principal, @Param('token') token: string) {
    await this.identity.revokeToken(p, pathId(token, 'token'));
  }
}
