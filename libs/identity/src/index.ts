/**
 * @wharf/identity: who is calling and what they may do, shared by every service that
 * authenticates (api-gateway for REST, event-log for its streams). Public API:
 *
 *  Tokens (tokens.ts) — `wharf_<16 alnum id>_<43 base64url secret>`; the secret is 256 random
 *  bits and only its sha256 is stored (TokenCreated.secret_sha256):
 *   - issueToken(ids?): { tokenId, token, secretSha256 }   new token (randomness from @wharf/system's Ids); show `token` once
 *   - parseToken(token), isWellFormedToken(token), tokenFromString(token), secretMatches(secret, hash)
 *
 *  Read model (model.ts) — IdentityModel folds identity events (proto/wharf/events/v1/identity.proto,
 *  streams user/<id>, token/<id>, tenant/<id>): UserCreated, TokenCreated, TokenRevoked,
 *  TenantCreated, MemberSet (adds a member or changes its role), MemberRemoved, QuotaSet.
 *   - apply(event)                           fold one RecordedEvent (ignores other types)
 *   - authenticate(token): Principal | undefined   unknown / wrong secret / revoked / expired -> undefined
 *   - roleIn(principal, tenantId): RoleName | undefined   (admins: 'owner' in every existing tenant)
 *   Principal = { userId, admin, roles: Map<tenantId, 'owner'|'developer'|'viewer'>, user, tokenId }
 *
 *  Permissions (permissions.ts):
 *   - can(principal, action, tenantId): boolean     action: 'read'|'write'|'operate'|'manage-members'
 *   - isMember(principal, tenantId), roleAllows(role, action)
 *   viewer: read; developer: read, write, operate; owner: all; admin: everything everywhere.
 *   Outside your tenants answer 404, not 403 (no leak of names).
 *
 *  Following the feed (identity-projection.ts):
 *   - new IdentityProjection(store).start(); .authenticate(tokenOrAuthorizationHeader); .can(p, action, tenant)
 *   - identityProjectionDefinition, bearerToken(header)
 */
export * from './tokens';
export * from './model';
export * from './permissions';
export * from './identity-projection';
