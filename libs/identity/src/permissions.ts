import type { RoleName } from './model';

/** What a role may do inside its tenant. Anything in a tenant the caller is not a member of is invisible (404). */
export type Action = 'read' | 'write' | 'operate' | 'manage-members';

const allowed: Record<RoleName, ReadonlySet<Action>> = {
  viewer: new Set(['read']),
  developer: new Set(['read', 'write', 'operate']),
  owner: new Set(['read', 'write', 'operate', 'manage-members']),
};

export function roleAllows(role: RoleName | undefined, action: Action): boolean {
  return role !== undefined && allowed[role].has(action);
}
