import type { Message } from '@bufbuild/protobuf';
import { ConflictError, NotFoundError, PermissionDeniedError, UnavailableError, WharfError } from '@wharf/errors';
import {
  ConcurrencyError,
  type Claim,
  type ClaimWrite,
  type EventStore,
  type ExpectedVersion,
  type FeedPosition,
  type NewEvent,
  type Projection,
} from '@wharf/event-store';
import { roleAllows, type Action, type Principal, type RoleName, type Tenant } from '@wharf/identity';
import type { Clock, Ids } from '@wharf/system';
import type { AppView, Catalog, ComponentView } from './catalog';

/**
 * What every use case shares: the catalog to read, authorisation against it, and appends
 * with optimistic concurrency that return once the catalog has folded them, so a caller
 * always reads its own writes. Time and ids come from here, never from the machine.
 */
export class GatewayContext {
  constructor(
    private readonly store: EventStore,
    private readonly projection: Projection<Catalog>,
    readonly clock: Clock,
    readonly ids: Ids,
  ) {}

  get catalog(): Catalog {
    return this.projection.state;
  }

  /** The feed position the catalog has folded up to: what `catalog` reflects right now. */
  get position(): FeedPosition {
    return this.projection.position;
  }

  /** Resolves once the catalog has folded `position` (503 if it cannot within its wait). */
  async waitFor(position: FeedPosition): Promise<void> {
    try {
      await this.projection.waitFor(position);
    } catch (err) {
      if (err instanceof WharfError && err.code === 'unavailable')
        throw new UnavailableError(`this api-gateway has not read position ${position} yet; retry shortly`, { retryAfterMs: 1000, cause: err });
      throw err;
    }
  }

  readClaims(names: readonly string[]): Promise<Map<string, Claim>> {
    return this.store.readClaims(names);
  }

  /**
   * Appends to one stream atomically; a lost race is 409 and appends nothing. The actor is the
   * caller (user:<id>), a named one such as a webhook (webhook:<hook id>), or api-gateway itself.
   * Claims are taken in the same transaction (ClaimConflictError when one changed since read).
   */
  async append(
    stream: string,
    events: Message[],
    expected: ExpectedVersion,
    principal: Principal | string | undefined,
    eventId?: string,
    claims?: ClaimWrite[],
  ): Promise<void> {
    const actor = typeof principal === 'string' ? principal : principal ? `user:${principal.user.id}` : 'service:api-gateway';
    let position: string;
    try {
      position = (
        await this.store.append(
          stream,
          events.map((message): NewEvent => ({ message, actor, eventId })),
          expected,
          claims?.length ? { claims } : undefined,
        )
      ).position;
    } catch (err) {
      if (err instanceof ConcurrencyError) throw new ConflictError(`${stream} changed concurrently (now at version ${err.actualVersion}); reload and retry`);
      throw err;
    }
    try {
      await this.projection.waitFor(position);
    } catch (err) {
      // Stored, but not yet readable here (the feed is behind, e.g. etcd just went away).
      if (err instanceof WharfError && err.code === 'unavailable')
        throw new UnavailableError(`the change was stored (position ${position}) but this api-gateway has not read it back yet; read it again shortly`, {
          retryAfterMs: 1000,
          cause: err,
        });
      throw err;
    }
  }

  /** The tenant if the caller may see it (admins see all), else 404: no leak of other tenants' names. */
  tenantFor(principal: Principal, tenantId: string, action: Action): { tenant: Tenant; role: RoleName } {
    const identity = this.catalog.identity;
    const tenant = identity.tenants.get(tenantId);
    const role = tenant && identity.roleIn(principal, tenantId);
    if (!tenant || !role) throw new NotFoundError(`tenant ${tenantId} not found`);
    if (!roleAllows(role, action)) throw new PermissionDeniedError(`your role in tenant ${tenantId} (${role}) may not ${action}`);
    return { tenant, role };
  }

  requireAdmin(principal: Principal): void {
    if (!principal.user.admin) throw new PermissionDeniedError('only an administrator may do this');
  }

  appFor(principal: Principal, tenantId: string, appId: string, action: Action): AppView {
    this.tenantFor(principal, tenantId, action);
    const app = this.catalog.apps.get(appId);
    if (!app || app.deleted || app.tenantId !== tenantId) throw new NotFoundError(`app ${appId} not found`);
    return app;
  }

  componentFor(principal: Principal, tenantId: string, componentId: string, action: Action): ComponentView {
    this.tenantFor(principal, tenantId, action);
    const c = this.catalog.components.get(componentId);
    if (!c || c.deleted || c.tenantId !== tenantId) throw new NotFoundError(`component ${componentId} not found`);
    return c;
  }
}
