import { ConflictError } from '@wharf/errors';
import { claimKey, describeClaim, type RouteClaim } from './claims';

/** Who owns a claim: the component's id and its readable name (`tenant/app/component`). */
export interface RouteOwner {
  componentId: string;
  name: string;
}

export interface OwnedClaims {
  owner: RouteOwner;
  claims: readonly RouteClaim[];
}

export interface RouteConflict {
  claim: RouteClaim;
  owner: RouteOwner;
  /** Field of api-gateway's body the claim came from: `routes` or `tcp_ports`. */
  field: 'routes' | 'tcp_ports';
  message: string;
}

/**
 * The candidate's claims that another component already holds. The candidate's own earlier
 * claims (an update of the same component) are no conflict. Pure: the caller passes every
 * other live component's claims (api-gateway has them in its catalog).
 */
export function routeConflicts(candidate: OwnedClaims, others: Iterable<OwnedClaims>): RouteConflict[] {
  const wanted = new Map(candidate.claims.map((c) => [claimKey(c), c]));
  const conflicts: RouteConflict[] = [];
  for (const other of others) {
    if (other.owner.componentId === candidate.owner.componentId) continue;
    for (const held of other.claims) {
      const claim = wanted.get(claimKey(held));
      if (!claim) continue;
      conflicts.push({
        claim,
        owner: other.owner,
        field: claim.kind === 'http' ? 'routes' : 'tcp_ports',
        message: `${describeClaim(claim)} is already routed to component ${other.owner.name} (${other.owner.componentId})`,
      });
    }
  }
  return conflicts;
}

/** routeConflicts as the API's answer: a 409 conflict (reason route_owned) naming the owner of the first one. */
export function assertNoRouteConflicts(candidate: OwnedClaims, others: Iterable<OwnedClaims>): void {
  const conflicts = routeConflicts(candidate, others);
  if (conflicts.length === 0) return;
  const more = conflicts.length > 1 ? ` (and ${conflicts.length - 1} more)` : '';
  throw new ConflictError(`${conflicts[0].message}${more}`, { reason: 'route_owned', field: conflicts[0].field });
}
