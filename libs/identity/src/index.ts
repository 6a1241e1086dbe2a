/**
 * @wharf/identity: who is calling and what they may do, shared by every service that
 * authenticates (api-gateway for REST, event-log for its streams).
 *  - tokens: issueToken / parseToken / secretMatches (only a sha256 of the secret is stored)
 *  - IdentityModel: the fold of identity events (users, tokens, tenants, members, quotas)
 *    with authenticate(bearer) and roleIn(principal, tenant)
 *  - roleAllows(role, action): the RBAC table
 */
export * from './tokens';
export * from './model';
export * from './permissions';
