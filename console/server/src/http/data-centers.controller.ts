import { Body, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import { DataCentersService } from '../domain/data-centers.service';
import * as S from '../domain/schemas';
import { Actor } from './auth';
import { ConsoleController } from './console-controller.decorator';
import { bodySchema } from './openapi';
import { parse } from './validation';

/** Data centers and the caller's own token for each; tokens go in, never out. */
@ConsoleController('data-centers', 'api/v1/data-centers')
export class DataCentersController {
  constructor(private readonly dataCenters: DataCentersService) {}

  @Get()
  list(@Actor() actor: string) {
    return { items: this.dataCenters.list(actor) };
  }

  @Post()
  @ApiBody(bodySchema(S.addDataCenterSchema))
  add(@Actor() actor: string, @Body() body: unknown) {
    return this.dataCenters.add(actor, parse(S.addDataCenterSchema, body));
  }

  @Get(':dc')
  get(@Actor() actor: string, @Param('dc') dc: string) {
    return this.dataCenters.get(actor, dc);
  }

  @Delete(':dc')
  @HttpCode(204)
  async remove(@Actor() actor: string, @Param('dc') dc: string) {
    await this.dataCenters.remove(actor, dc);
  }

  @Put(':dc/credential')
  @ApiBody(bodySchema(S.credentialSchema))
  link(@Actor() actor: string, @Param('dc') dc: string, @Body() body: unknown) {
    return this.dataCenters.setCredential(actor, dc, parse(S.credentialSchema, body).token);
  }

  @Delete(':dc/credential')
  @HttpCode(204)
  async unlink(@Actor() actor: string, @Param('dc') dc: string) {
    await this.dataCenters.removeCredential(actor, dc);
  }
}
