import { Get, Param } from '@nestjs/common';
import type { Principal } from '@wharf/identity';
import type { z } from 'zod';
import * as S from '../domain/schemas';
import { VersionsService } from '../domain/versions.service';
import { ApiController } from './api-controller.decorator';
import { Caller } from './caller';
import { QueryParams, ValidQuery } from './query-params';
import { pathId, versionId } from './validation';

@ApiController('versions')
export class VersionsController {
  constructor(private readonly versions: VersionsService) {}

  @Get('tenants/:tenant/components/:component/versions')
  @QueryParams(S.versionPageSchema)
  listVersions(
    @Caller() p: Principal,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @ValidQuery() q: z.infer<typeof S.versionPageSchema>,
  ) {
    return this.versions.listVersions(p, pathId(tenant, 'tenant'), pathId(component, 'component'), q);
  }

  @Get('tenants/:tenant/components/:component/versions/:version')
  getVersion(@Caller() p: Principal, @Param('tenant') tenant: string, @Param('component') component: string, @Param('version') version: string) {
    return this.versions.getVersion(p, pathId(tenant, 'tenant'), pathId(component, 'component'), versionId(version));
  }
}
