import { eventsV1 } from '@wharf/contracts';
import type { RecordedEvent } from '@wharf/event-store';
import { parseToken, secretMatches } from './tokens';

export type RoleName = 'owner' | 'developer' | 'viewer';

export const roleName: Record<number, RoleName | undefined> = {
  [eventsV1.Role.OWNER]: 'owner',
  [eventsV1.Role.DEVELOPER]: 'developer',
  [eventsV1.Role.VIEWER]: 'viewer',
};
export const roleValue: Record<RoleName, eventsV1.Role> = { owner: eventsV1.Role.OWNER, developer: eventsV1.Role.DEVELOPER, viewer: eventsV1.Role.VIEWER };

export interface User {
  id: string;
  name: string;
  admin: boolean;
}
export interface TokenRecord {
  id: string;
  userId: string;
  name: string;
  secretSha256: Uint8Array;
  expiresAtMs: number;
  createdAtMs: number;
  revoked: boolean;
}
export interface Tenant {
  id: string;
  name: string;
  createdAtMs: number;
  version: number;
  members: Map<string, RoleName>;
  quota: { maxApps: number; maxComponents: number; maxCpuMillis: number; maxMemoryMib: number };
}

/** Who is calling: resolved once per request by authenticate(). */
export interface Principal {
  user: User;
  tokenId: string;
  userId: string;
  admin: boolean;
  /** The caller's role per tenant id (live view of the model; admins are owners everywhere via can()). */
  roles: ReadonlyMap<string, RoleName>;
}

/** The model as plain JSON-able data (for a projection snapshot); bytes as base64. */
export interface IdentitySnapshot {
  users: User[];
  tokens: (Omit<TokenRecord, 'secretSha256'> & { secretSha256: string })[];
  tenants: (Omit<Tenant, 'members'> & { members: [string, RoleName][] })[];
}

/** Users, tokens, tenants and memberships: the fold every service authenticates against. */
export class IdentityModel {
  readonly users = new Map<string, User>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly tenants = new Map<string, Tenant>();
  readonly tenantsByName = new Map<string, string>();
  /** user id -> tenant id -> role: answers "which tenants may this caller see" without a scan. */
  readonly rolesByUser = new Map<string, Map<string, RoleName>>();
  private static readonly NO_ROLES: ReadonlyMap<string, RoleName> = new Map();
  /** Bearer tokens whose secret matched its record's hash (bounded; only ever a cache). */
  private readonly verified = new Map<string, string>();
  private static readonly VERIFIED_MAX = 10_000;

  private userRoles(userId: string): Map<string, RoleName> {
    let roles = this.rolesByUser.get(userId);
    if (!roles) this.rolesByUser.set(userId, (roles = new Map()));
    return roles;
  }

  /** Folds one event; ignores what is not about identity. */
  apply(e: RecordedEvent): void {
    const m = e.message;
    switch (m.$typeName) {
      case 'wharf.events.v1.UserCreated': {
        const u = m as eventsV1.UserCreated;
        this.users.set(u.userId, { id: u.userId, name: u.name, admin: u.admin });
        break;
      }
      case 'wharf.events.v1.TokenCreated': {
        const t = m as eventsV1.TokenCreated;
        this.tokens.set(t.tokenId, {
          id: t.tokenId,
          userId: t.userId,
          name: t.name,
          secretSha256: t.secretSha256,
          expiresAtMs: Number(t.expiresAtMs),
          createdAtMs: e.timeMs,
          revoked: false,
        });
        break;
      }
      case 'wharf.events.v1.TokenRevoked': {
        const t = this.tokens.get((m as eventsV1.TokenRevoked).tokenId);
        if (t) t.revoked = true;
        break;
      }
      case 'wharf.events.v1.TenantCreated': {
        const t = m as eventsV1.TenantCreated;
        this.tenants.set(t.tenantId, {
          id: t.tenantId,
          name: t.name,
          createdAtMs: e.timeMs,
          version: e.version,
          members: new Map(),
          quota: { maxApps: 0, maxComponents: 0, maxCpuMillis: 0, maxMemoryMib: 0 },
        });
        this.tenantsByName.set(t.name, t.tenantId);
        break;
      }
      case 'wharf.events.v1.MemberSet': {
        const s = m as eventsV1.MemberSet;
        const tenant = this.tenants.get(s.tenantId);
        const role = roleName[s.role];
        if (tenant && role) {
          tenant.members.set(s.userId, role);
          this.userRoles(s.userId).set(s.tenantId, role);
          tenant.version = e.version;
        }
        break;
      }
      case 'wharf.events.v1.MemberRemoved': {
        const r = m as eventsV1.MemberRemoved;
        const tenant = this.tenants.get(r.tenantId);
        if (tenant) {
          tenant.members.delete(r.userId);
          this.rolesByUser.get(r.userId)?.delete(r.tenantId);
          tenant.version = e.version;
        }
        break;
      }
      case 'wharf.events.v1.QuotaSet': {
        const q = m as eventsV1.QuotaSet;
        const tenant = this.tenants.get(q.tenantId);
        if (tenant) {
          tenant.quota = { maxApps: q.maxApps, maxComponents: q.maxComponents, maxCpuMillis: q.maxCpuMillis, maxMemoryMib: q.maxMemoryMib };
          tenant.version = e.version;
        }
        break;
      }
    }
  }

  snapshot(): IdentitySnapshot {
    return {
      users: [...this.users.values()],
      tokens: [...this.tokens.values()].map((t) => ({ ...t, secretSha256: Buffer.from(t.secretSha256).toString('base64') })),
      tenants: [...this.tenants.values()].map((t) => ({ ...t, members: [...t.members] })),
    };
  }

  /** The model a snapshot() was taken of (then keep folding the feed from the snapshot's position). */
  static restore(s: IdentitySnapshot): IdentityModel {
    const model = new IdentityModel();
    for (const u of s.users) model.users.set(u.id, { ...u });
    for (const t of s.tokens) model.tokens.set(t.id, { ...t, secretSha256: new Uint8Array(Buffer.from(t.secretSha256, 'base64')) });
    for (const t of s.tenants) {
      model.tenants.set(t.id, { ...t, quota: { ...t.quota }, members: new Map(t.members) });
      model.tenantsByName.set(t.name, t.id);
      for (const [userId, role] of t.members) model.userRoles(userId).set(t.id, role);
    }
    return model;
  }

  /** The principal behind a bearer token, or undefined (unknown, wrong secret, revoked, expired). */
  authenticate(bearer: string, now = Date.now()): Principal | undefined {
    // A token already verified skips the hash; its record is still checked on every call.
    let tokenId = this.verified.get(bearer);
    if (tokenId === undefined) {
      const parsed = parseToken(bearer);
      if (!parsed) return undefined;
      const candidate = this.tokens.get(parsed.tokenId);
      if (!candidate || !secretMatches(parsed.secret, candidate.secretSha256)) return undefined;
      if (this.verified.size >= IdentityModel.VERIFIED_MAX) this.verified.clear();
      this.verified.set(bearer, (tokenId = parsed.tokenId));
    }
    const record = this.tokens.get(tokenId);
    if (!record || record.revoked || (record.expiresAtMs > 0 && record.expiresAtMs <= now)) return undefined;
    const user = this.users.get(record.userId);
    return user && { user, tokenId: record.id, userId: user.id, admin: user.admin, roles: this.rolesByUser.get(user.id) ?? IdentityModel.NO_ROLES };
  }

  /** The caller's role in a tenant; admins act as owners everywhere. */
  roleIn(principal: Principal, tenantId: string): RoleName | undefined {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) return undefined;
    if (principal.user.admin) return 'owner';
    return tenant.members.get(principal.user.id);
  }
}
