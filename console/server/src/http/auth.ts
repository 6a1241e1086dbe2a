import { createParamDecorator, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PermissionDeniedError } from '@wharf/errors';
import type { Request } from 'express';
import type { SessionRecord } from '../domain/ports';
import { SessionsService } from '../domain/sessions.service';

export const SESSION_COOKIE = 'wharf_session';
export const CSRF_HEADER = 'x-csrf-token';
const PUBLIC = 'wharf:public';

/** A route anyone may call (sign-in, the web UI's own files). */
export const Public = () => SetMetadata(PUBLIC, true);

export type SessionRequest = Request & { session?: SessionRecord; viaCookie?: boolean };

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session id a request carries: the cookie (browsers) or `Authorization: Bearer wcs_...` (CLI, scripts). */
export function sessionIdOf(req: Request): { id: string | undefined; viaCookie: boolean } {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { id: auth.slice(7).trim(), viaCookie: false };
  return { id: (req.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE], viaCookie: true };
}

/**
 * Every route needs a session (401 first). A change (any method but GET/HEAD/OPTIONS) made
 * with the cookie must also carry the session's CSRF token in X-CSRF-Token and, when the
 * browser sends an Origin, come from this console's own origin: the cookie is SameSite=Strict
 * too, so a forged request fails three ways. A bearer session is not ambient (a page on
 * another site cannot add it), so it needs no CSRF token.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly sessions: SessionsService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const req = context.switchToHttp().getRequest<SessionRequest>();
    const { id, viaCookie } = sessionIdOf(req);
    req.session = await this.sessions.resolve(id);
    req.viaCookie = viaCookie;
    if (viaCookie && !SAFE.has(req.method)) assertSameOriginChange(req, req.session);
    return true;
  }
}

export function assertSameOriginChange(req: Request, session: SessionRecord): void {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `${req.protocol}://${req.headers.host}`) {
    throw new PermissionDeniedError(`a change from another origin (${origin}) is refused`, { reason: 'csrf' });
  }
  const sent = req.headers[CSRF_HEADER];
  if (!SessionsService.csrfMatches(session, typeof sent === 'string' ? sent : undefined)) {
    throw new PermissionDeniedError('missing or wrong X-CSRF-Token: reload the page and try again', { reason: 'csrf' });
  }
}

/** The signed-in user's name (SessionGuard ran first). */
export const Actor = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  return context.switchToHttp().getRequest<SessionRequest>().session!.user;
});

/** The whole session (sign-out, the CSRF token). */
export const CurrentSession = createParamDecorator((_data: unknown, context: ExecutionContext): SessionRecord => {
  return context.switchToHttp().getRequest<SessionRequest>().session!;
});
