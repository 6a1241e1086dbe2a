import { clone, create, type Message } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { ConflictError } from '@wharf/errors';
import { ClaimConflictError, type ExpectedVersion } from '@wharf/event-store';
import type { Principal } from '@wharf/identity';
import type { ComponentView } from './catalog';
import { toComponentSpec, toRouteSpecs, toTcpPortSpecs } from './component-spec';
import type { GatewayContext } from './gateway-context';
import { expectedVersion } from './if-match';
import type { OperationsService } from './operations.service';
import { mapPage, pageOfSorted, paginate, type Page, type PageQuery } from './pagination';
import { assertComponentQuota } from './quota';
import { assertRoutesAllowed, planRouteClaims, type RouteCandidate, type RouteRules } from './route-claims';
import { applyRoutePatch } from './route-patch';
import type { ComponentPatchInput, ComponentSpecInput, CreateComponentInput } from './schemas';
import type { SecretSealer } from './secret-sealer';
import { componentSummary, componentSummaryJson, componentView } from './views/component.view';

/** Components: create, read, replace or patch the spec (guarded by If-Match, gateway routes checked); delete is an operation. */
export class ComponentsService {
  constructor(
    private readonly ctx: GatewayContext,
    private readonly sealer: SecretSealer,
    private readonly operations: OperationsService,
    private readonly routes: RouteRules,
  ) {}

  private liveComponents(tenantId: string): ComponentView[] {
    return [...this.ctx.catalog.components.values()].filter((c) => c.tenantId === tenantId && !c.deleted);
  }

  async createComponent(p: Principal, tenantId: string, appId: string, body: CreateComponentInput) {
    const app = this.ctx.appFor(p, tenantId, appId, 'write');
    const { tenant } = this.ctx.tenantFor(p, tenantId, 'write');
    const id = `${app.id}.${body.name}`;
    const existing = this.ctx.catalog.components.get(id);
    if (existing && !existing.deleted) throw new ConflictError(`component ${body.name} already exists in app ${appId}`);
    assertComponentQuota(tenant, this.liveComponents(tenantId), body);
    const { name, ...spec } = body;
    await this.appendWithRoutes(
      { id, tenantId, appId: app.id, name, spec },
      create(eventsV1.ComponentCreatedSchema, { componentId: id, appId: app.id, tenantId, spec: toComponentSpec(id, name, spec, this.sealer) }),
      existing?.version ?? 0,
      p,
    );
    return componentView(this.ctx.catalog.components.get(id)!);
  }

  private page(p: Principal, tenantId: string, appId: string, q: PageQuery & { name?: string }): Page<ComponentView> {
    this.ctx.appFor(p, tenantId, appId, 'read');
    const sorted = this.ctx.catalog.sortedComponents(appId);
    const byId = (c: ComponentView) => c.id;
    return q.name
      ? paginate(
          sorted.filter((c) => c.name.includes(q.name!)),
          byId,
          q,
        )
      : pageOfSorted(sorted, byId, q);
  }

  listComponents(p: Principal, tenantId: string, appId: string, q: PageQuery & { name?: string }) {
    return mapPage(this.page(p, tenantId, appId, q), componentSummary);
  }

  /** listComponents as JSON text, from summaries serialised once per change (a page is then string joins). */
  listComponentsJson(p: Principal, tenantId: string, appId: string, q: PageQuery & { name?: string }): string {
    const page = this.page(p, tenantId, appId, q);
    return `{"items":[${page.items.map(componentSummaryJson).join(',')}],"next_cursor":${JSON.stringify(page.next_cursor)}}`;
  }

  /** The component (the HTTP edge serialises it once per change, see componentJson). */
  getComponent(p: Principal, tenantId: string, componentId: string): ComponentView {
    return this.ctx.componentFor(p, tenantId, componentId, 'read');
  }

  /** Replaces the spec; ifMatch is the version the caller read (ETag), a stale one answers 409. */
  async updateComponent(p: Principal, tenantId: string, componentId: string, spec: ComponentSpecInput, ifMatch: number | undefined) {
    const c = this.ctx.componentFor(p, tenantId, componentId, 'write');
    const { tenant } = this.ctx.tenantFor(p, tenantId, 'write');
    const expected = expectedVersion(`component ${componentId}`, c.version, ifMatch);
    assertComponentQuota(tenant, this.liveComponents(tenantId), spec, c);
    await this.appendWithRoutes(
      { id: componentId, tenantId, appId: c.appId, name: c.name, spec },
      create(eventsV1.ComponentUpdatedSchema, { componentId, spec: toComponentSpec(componentId, c.name, spec, this.sealer) }),
      expected,
      p,
    );
    return componentView(this.ctx.catalog.components.get(componentId)!);
  }

  /**
   * Changes only the fields a PATCH gives (routes, TCP ports), guarded like a PUT. A TLS route
   * may leave its key out to keep the one stored for its host (applyRoutePatch): the key is
   * opened to be checked against the (maybe new) certificate and sealed again, never returned.
   */
  async patchComponent(p: Principal, tenantId: string, componentId: string, patch: ComponentPatchInput, ifMatch: number | undefined) {
    const c = this.ctx.componentFor(p, tenantId, componentId, 'write');
    const expected = expectedVersion(`component ${componentId}`, c.version, ifMatch);
    const { routes, tcp_ports, keptKeys } = applyRoutePatch(componentId, c.spec, patch, this.sealer);
    const spec = clone(eventsV1.ComponentSpecSchema, c.spec);
    spec.routes = toRouteSpecs(componentId, routes, this.sealer);
    spec.tcpPorts = toTcpPortSpecs(tcp_ports);
    await this.appendWithRoutes(
      { id: componentId, tenantId, appId: c.appId, name: c.name, spec: { ports: c.spec.ports, routes, tcp_ports }, keptKeys },
      create(eventsV1.ComponentUpdatedSchema, { componentId, spec }),
      expected,
      p,
    );
    return componentView(this.ctx.catalog.components.get(componentId)!);
  }

  /**
   * Appends a create or update of the candidate once its routes pass the catalog's check, taking
   * their claims in the same etcd transaction, so of two racing writers of one route only one
   * lands; the other checks again against the winner (409 route_owned).
   */
  private async appendWithRoutes(candidate: RouteCandidate, event: Message, expected: ExpectedVersion, p: Principal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const seenAt = this.ctx.position; // read with the check, before anything awaits
      const names = assertRoutesAllowed(this.ctx.catalog, candidate, this.routes, this.ctx.clock.now());
      const plan = planRouteClaims(candidate.id, names, names.length ? await this.ctx.readClaims(names) : new Map(), seenAt);
      if ('behind' in plan) {
        await this.ctx.waitFor(plan.behind);
      } else {
        try {
          return await this.ctx.append(`component/${candidate.id}`, [event], expected, p, undefined, plan.claims);
        } catch (err) {
          if (!(err instanceof ClaimConflictError)) throw err;
        }
      }
      if (attempt >= 3) throw new ConflictError(`the routes of component ${candidate.name} are being changed concurrently; retry`, { reason: 'route_owned' });
    }
  }

  /** Delete is an async action like the others (replicas must go first): 202, and the component disappears when it succeeds. */
  deleteComponent(p: Principal, tenantId: string, componentId: string, ifMatch: number | undefined, queue = false) {
    return this.operations.requestOperation(p, tenantId, componentId, { kind: 'delete', queue }, ifMatch);
  }
}
