import { applyDecorators, Controller, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiTags } from '@nestjs/swagger';
import { SessionGuard } from './auth';

/** A console API controller: a session first (401), a CSRF token on cookie-borne changes (403). */
export function ConsoleController(tag: string, path = 'api/v1') {
  return applyDecorators(ApiBearerAuth(), ApiCookieAuth('wharf_session'), ApiTags(tag), UseGuards(SessionGuard), Controller(path));
}
