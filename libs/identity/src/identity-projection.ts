import { Projection, type EventStore, type FeedPosition, type ProjectionDefinition } from '@wharf/event-store';
import { IdentityModel, type Principal } from './model';
import { can, type Action } from './permissions';

/** The identity fold as a projection definition (to embed in a bigger read model, fold it with IdentityModel.apply). */
export const identityProjectionDefinition: ProjectionDefinition<IdentityModel> = {
  name: 'identity',
  initial: () => new IdentityModel(),
  apply: (state, event) => (state.apply(event), state),
};

/** "Bearer <token>" -> the token, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return authorization?.match(/^Bearer (\S+)$/)?.[1];
}

/**
 * A service's view of identity: follows the global feed in memory (users, tokens, tenants,
 * members) and answers authenticate / can locally, with no etcd round trip per request.
 * Usage: `const id = new IdentityProjection(store); await id.start(); id.authenticate(token)`.
 */
export class IdentityProjection {
  private readonly projection: Projection<IdentityModel>;

  constructor(store: EventStore) {
    this.projection = new Projection(store, identityProjectionDefinition);
  }

  /** Resolves once caught up with the feed. */
  start(): Promise<void> {
    return this.projection.start();
  }

  stop(): Promise<void> {
    return this.projection.stop();
  }

  get model(): IdentityModel {
    return this.projection.state;
  }

  get position(): FeedPosition {
    return this.projection.position;
  }

  /** Waits until an append at `position` is visible (e.g. a token created a moment ago). */
  waitFor(position: FeedPosition, timeoutMs?: number): Promise<void> {
    return this.projection.waitFor(position, timeoutMs);
  }

  /** A bearer token (the bare token or an "Authorization: Bearer ..." value) -> the caller, or undefined. */
  authenticate(tokenOrHeader: string | undefined, now = Date.now()): Principal | undefined {
    if (!tokenOrHeader) return undefined;
    return this.model.authenticate(bearerToken(tokenOrHeader) ?? tokenOrHeader, now);
  }

  /** may the caller do `action` in an existing tenant? false for unknown tenants. */
  can(principal: Principal, action: Action, tenantId: string): boolean {
    return this.model.tenants.has(tenantId) && can(principal, action, tenantId);
  }
}
