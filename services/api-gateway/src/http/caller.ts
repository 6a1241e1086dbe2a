import { createParamDecorator, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Principal } from '@wharf/identity';
import type { FastifyRequest } from 'fastify';
import { IdentityService } from '../domain/identity.service';

type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/** Every /api/v1 route needs a bearer token: 401 before anything else is looked at. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(private readonly identity: IdentityService) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    req.principal = this.identity.authenticate(req.headers.authorization);
    return true;
  }
}

/** The authenticated caller (AuthGuard ran first). */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  return context.switchToHttp().getRequest<AuthenticatedRequest>().principal!;
});
