import { applyDecorators, Controller, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AuthGuard } from './caller';
import { QueryParamsGuard } from './query-params';

/** A /api/v1 controller: bearer token first (401), then the route's query parameters (400), then the handler. */
export function ApiController(tag: string) {
  return applyDecorators(ApiBearerAuth(), ApiTags(tag), UseGuards(AuthGuard, QueryParamsGuard), Controller('api/v1'));
}

/** Hot reads answer pre-serialised JSON text; the type must still say JSON. */
export const JSON_TYPE = 'application/json; charset=utf-8';
