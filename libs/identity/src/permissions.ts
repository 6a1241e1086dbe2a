import type { Principal, RoleName } from './model';

/**
 * What a role may do inside its tenant. Anything in a tenant the caller is not a member of
 * is invisible: callers answer 404 (not 403) there, so no other tenant's names leak.
 *  - read: see the tenant, its apps, components, operations, logs
 *  - write: create/change/delete apps and components
 *  - operate: async actions (build, deploy, scale, ...)
 *  - manage-members: add/remove members, change roles
 */
export type Action = 'read' | 'write' | 'operate' | 'manage-members';

const allowed: Record<RoleName, ReadonlySet<Action>> = {
  viewer: new Set(['read']),
  developer: new Set(['read', 'write', 'operate']),
  owner: new Set(['read', 'write', 'operate', 'manage-members']),
};

export function roleAllows(role: RoleName | undefined, action: Action): boolean {
  return role !== undefined && allowed[role].has(action);
}

/** May this caller do `action` in `tenantId`? Admins may do anything anywhere. */
export function can(principal: Principal, action: Action, tenantId: string): boolean {
  return principal.admin || roleAllows(principal.roles.get(tenantId), action);
}

/** May this caller see `tenantId` at all (any role)? The 404-versus-403 decision. */
export function isMember(principal: Principal, tenantId: string): boolean {
  return principal.admin || principal.roles.has(tenantId);
}
