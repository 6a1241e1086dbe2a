import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { ConflictError, InvalidArgumentError, NotFoundError, UnauthenticatedError } from '@wharf/errors';
import { issueToken, tokenFromString, type Principal } from '@wharf/identity';
import type { GatewayContext } from './gateway-context';
import { paginate, type PageQuery } from './pagination';

const DAY_MS = 86_400_000;

/** Users, tokens and the first administrator. */
export class IdentityService {
  constructor(private readonly ctx: GatewayContext) {}

  authenticate(authorization: string | undefined): Principal {
    const token = authorization?.match(/^Bearer (\S+)$/)?.[1];
    const principal = token ? this.ctx.catalog.identity.authenticate(token, this.ctx.clock.now()) : undefined;
    if (!principal) throw new UnauthenticatedError('a valid bearer token is required (Authorization: Bearer wharf_...)');
    return principal;
  }

  /** First start: an admin and its token (from config, or a fresh one returned to print once). */
  async bootstrapAdmin(configuredToken?: string): Promise<string | undefined> {
    if ([...this.ctx.catalog.identity.users.values()].some((u) => u.admin)) return undefined;
    const issued = configuredToken ? tokenFromString(configuredToken) : issueToken(this.ctx.ids);
    if (!issued)
      throw new InvalidArgumentError('WHARF_ADMIN_TOKEN must look like wharf_<16 alphanumerics>_<43 base64url characters>', { field: 'WHARF_ADMIN_TOKEN' });
    try {
      await this.ctx.append('user/admin', [create(eventsV1.UserCreatedSchema, { userId: 'admin', name: 'admin', admin: true })], 0, undefined);
    } catch (err) {
      if (err instanceof ConflictError) return undefined; // another instance bootstrapped first
      throw err;
    }
    await this.ctx.append(
      `token/${issued.tokenId}`,
      [create(eventsV1.TokenCreatedSchema, { tokenId: issued.tokenId, userId: 'admin', name: 'bootstrap', secretSha256: issued.secretSha256 })],
      0,
      undefined,
    );
    return configuredToken ? undefined : issued.token;
  }

  me(p: Principal) {
    const identity = this.ctx.catalog.identity;
    const tenants = [...identity.tenants.values()].filter((t) => identity.roleIn(p, t.id)).map((t) => ({ id: t.id, role: identity.roleIn(p, t.id) }));
    return { id: p.user.id, name: p.user.name, admin: p.user.admin, tenants };
  }

  async createUser(p: Principal, body: { name: string; admin: boolean }) {
    this.ctx.requireAdmin(p);
    if (this.ctx.catalog.identity.users.has(body.name)) throw new ConflictError(`user ${body.name} already exists`);
    await this.ctx.append(`user/${body.name}`, [create(eventsV1.UserCreatedSchema, { userId: body.name, name: body.name, admin: body.admin })], 0, p);
    return { id: body.name, name: body.name, admin: body.admin };
  }

  listUsers(p: Principal, q: PageQuery & { name?: string }) {
    this.ctx.requireAdmin(p);
    return paginate(
      [...this.ctx.catalog.identity.users.values()].filter((u) => !q.name || u.name.includes(q.name)),
      (u) => u.id,
      q,
    );
  }

  async createToken(p: Principal, userId: string, body: { name: string; expires_in_days?: number }) {
    if (userId !== p.user.id) this.ctx.requireAdmin(p);
    if (!this.ctx.catalog.identity.users.has(userId)) throw new NotFoundError(`user ${userId} not found`);
    const issued = issueToken(this.ctx.ids);
    const expiresAtMs = body.expires_in_days ? this.ctx.clock.now() + body.expires_in_days * DAY_MS : 0;
    await this.ctx.append(
      `token/${issued.tokenId}`,
      [
        create(eventsV1.TokenCreatedSchema, {
          tokenId: issued.tokenId,
          userId,
          name: body.name,
          secretSha256: issued.secretSha256,
          expiresAtMs: BigInt(expiresAtMs),
        }),
      ],
      0,
      p,
    );
    return { id: issued.tokenId, name: body.name, user_id: userId, token: issued.token, expires_at_ms: expiresAtMs || null };
  }

  listTokens(p: Principal, q: PageQuery & { name?: string }) {
    const mine = [...this.ctx.catalog.identity.tokens.values()].filter((t) => t.userId === p.user.id && !t.revoked && (!q.name || t.name.includes(q.name)));
    return paginate(
      mine.map((t) => ({ id: t.id, name: t.name, user_id: t.userId, created_at_ms: t.createdAtMs, expires_at_ms: t.expiresAtMs || null })),
      (t) => t.id,
      q,
    );
  }

  async revokeToken(p: Principal, tokenId: string) {
    const t = this.ctx.catalog.identity.tokens.get(tokenId);
    if (!t || t.revoked || (t.userId !== p.user.id && !p.user.admin)) throw new NotFoundError(`token ${tokenId} not found`);
    await this.ctx.append(`token/${tokenId}`, [create(eventsV1.TokenRevokedSchema, { tokenId })], 'any', p);
  }
}
