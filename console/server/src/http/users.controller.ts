import { Body, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import * as S from '../domain/schemas';
import { UsersService } from '../domain/users.service';
import { Actor } from './auth';
import { ConsoleController } from './console-controller.decorator';
import { bodySchema } from './openapi';
import { parse } from './validation';

@ConsoleController('users', 'api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  list(@Actor() actor: string) {
    return { items: this.users.list(actor) };
  }

  @Post()
  @ApiBody(bodySchema(S.createUserSchema))
  create(@Actor() actor: string, @Body() body: unknown) {
    return this.users.create(actor, parse(S.createUserSchema, body));
  }

  @Put('me/password')
  @HttpCode(204)
  @ApiBody(bodySchema(S.changePasswordSchema))
  async changePassword(@Actor() actor: string, @Body() body: unknown) {
    const input = parse(S.changePasswordSchema, body);
    await this.users.changePassword(actor, input.current_password, input.new_password);
  }
}
