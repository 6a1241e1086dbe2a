import { eventsV1 } from '@wharf/contracts';
import type { ProjectionDefinition, RecordedEvent } from '@wharf/event-store';
import { normalizePathPrefix } from '@wharf/routing';

/**
 * lb-manager's own read model of the feed: tenants', apps' and components' names and the
 * components' route specs, plus when each route claim was first made. The claim age is what
 * makes ownership deterministic when two components claim the same host+path or TCP port (the
 * API refuses that, but the gateway must not depend on it): the oldest claim wins, on every
 * lb-manager instance alike, since all of them fold the same feed in the same order.
 */

export interface ComponentEntry {
  id: string;
  appId: string;
  tenantId: string;
  name: string;
  spec: eventsV1.ComponentSpec;
  /** Feed position of ComponentCreated. */
  createdAt: bigint;
  /** Claim key (claimKey of @wharf/routing) -> feed position where the spec first made it; kept while the spec keeps it. */
  claimedAt: Map<string, bigint>;
}

export interface RouteCatalog {
  tenants: Map<string, string>;
  apps: Map<string, { tenantId: string; name: string }>;
  components: Map<string, ComponentEntry>;
  /** event_id of a requested delete -> component id: the component goes when that operation succeeds. */
  pendingDeletes: Map<string, string>;
  /** Counts changes that can move a route (the sync loop renders again when it moves). */
  changes: number;
}

export const emptyCatalog = (): RouteCatalog => ({ tenants: new Map(), apps: new Map(), components: new Map(), pendingDeletes: new Map(), changes: 0 });

/** The claim keys of a spec's explicit routes and TCP ports, as @wharf/routing's claimKey spells them. */
export function specClaimKeys(spec: eventsV1.ComponentSpec): string[] {
  return [
    ...spec.routes.map((r) => `http ${r.host}${normalizePathPrefix(r.pathPrefix === '' ? '/' : r.pathPrefix)}`),
    ...spec.tcpPorts.map((t) => `tcp ${t.listenPort}`),
  ];
}

function claimAges(spec: eventsV1.ComponentSpec, previous: Map<string, bigint>, at: bigint): Map<string, bigint> {
  const ages = new Map<string, bigint>();
  for (const key of specClaimKeys(spec)) ages.set(key, previous.get(key) ?? at);
  return ages;
}

/** Folds one event (mutating the catalog). Events that say nothing about routes leave it alone. */
export function applyRouteEvent(c: RouteCatalog, e: RecordedEvent): RouteCatalog {
  const at = BigInt(e.position);
  const m = e.message;
  switch (m.$typeName) {
    case 'wharf.events.v1.TenantCreated': {
      const t = m as eventsV1.TenantCreated;
      c.tenants.set(t.tenantId, t.name);
      c.changes++;
      break;
    }
    case 'wharf.events.v1.AppCreated': {
      const a = m as eventsV1.AppCreated;
      c.apps.set(a.appId, { tenantId: a.tenantId, name: a.name });
      c.changes++;
      break;
    }
    case 'wharf.events.v1.AppDeleted': {
      const appId = (m as eventsV1.AppDeleted).appId;
      c.apps.delete(appId);
      for (const [id, comp] of c.components) if (comp.appId === appId) c.components.delete(id);
      c.changes++;
      break;
    }
    case 'wharf.events.v1.ComponentCreated': {
      const k = m as eventsV1.ComponentCreated;
      if (!k.spec) break;
      c.components.set(k.componentId, {
        id: k.componentId,
        appId: k.appId,
        tenantId: k.tenantId,
        name: k.spec.name,
        spec: k.spec,
        createdAt: at,
        claimedAt: claimAges(k.spec, new Map(), at),
      });
      c.changes++;
      break;
    }
    case 'wharf.events.v1.ComponentUpdated': {
      const u = m as eventsV1.ComponentUpdated;
      const comp = c.components.get(u.componentId);
      if (!comp || !u.spec) break;
      comp.spec = u.spec;
      comp.claimedAt = claimAges(u.spec, comp.claimedAt, at);
      c.changes++;
      break;
    }
    case 'wharf.events.v1.ComponentDeleted': {
      if (c.components.delete((m as eventsV1.ComponentDeleted).componentId)) c.changes++;
      break;
    }
    case 'wharf.events.v1.OperationRequested': {
      const o = m as eventsV1.OperationRequested;
      // The component goes when event-log says its delete operation succeeded.
      if (o.target.startsWith('component/') && o.kind === eventsV1.OperationKind.DELETE) c.pendingDeletes.set(o.eventId, o.target.slice('component/'.length));
      break;
    }
    case 'wharf.events.v1.OperationFinished': {
      const f = m as eventsV1.OperationFinished;
      const componentId = c.pendingDeletes.get(f.eventId);
      if (componentId === undefined) break;
      c.pendingDeletes.delete(f.eventId);
      if (f.status === eventsV1.OperationStatus.SUCCESS && c.components.delete(componentId)) c.changes++;
      break;
    }
  }
  return c;
}

export const routeCatalogProjection: ProjectionDefinition<RouteCatalog> = {
  name: 'lb-manager-routes',
  initial: emptyCatalog,
  apply: applyRouteEvent,
};
