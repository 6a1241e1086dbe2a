import { create, type Message } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { ConcurrencyError, type EventStore, type NewEvent, type Projection } from '@wharf/event-store';
import { issueToken, roleAllows, roleValue, tokenFromString, type Action, type Principal, type RoleName, type Tenant } from '@wharf/identity';
import { randomBytes, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { Catalog, ComponentView, OperationView, VersionView } from './catalog';
import { badRequest, conflict, forbidden, notFound, unauthenticated } from './errors';
import type { componentSpecSchema, createComponentSchema, operationSchema, pageSchema, quotaSchema, versionPageSchema } from './schemas';
import type { SecretBox } from './secrets';
import type { StepSource, StepView } from './steps';
import type { TaskDispatcher } from './task-dispatcher';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

type Spec = z.infer<typeof componentSpecSchema>;

const kindValue: Record<string, eventsV1.OperationKind> = Object.fromEntries(
  Object.entries(eventsV1.OperationKind)
    .filter(([k]) => isNaN(Number(k)) && k !== 'UNSPECIFIED')
    .map(([k, v]) => [k.toLowerCase(), v as eventsV1.OperationKind]),
);

function paginate<T>(items: T[], key: (t: T) => string, q: z.infer<typeof pageSchema>): Page<T> {
  const sorted = items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const start = q.cursor ? sorted.findIndex((t) => key(t) > q.cursor!) : 0;
  const page = start < 0 ? [] : sorted.slice(start, start + q.limit);
  const more = start >= 0 && start + q.limit < sorted.length;
  return { items: page, next_cursor: more ? key(page[page.length - 1]) : null };
}

/**
 * Every use case of the REST API, free of HTTP: authorisation, validation against the
 * current state, events appended with optimistic concurrency, tasks enqueued. Reads come
 * from the catalog projection; writes wait until the projection has seen them, so a
 * caller always reads its own writes.
 */
export class Gateway {
  constructor(
    private readonly store: EventStore,
    private readonly projection: Projection<Catalog>,
    private readonly tasks: TaskDispatcher,
    private readonly secrets: SecretBox,
    private readonly stepSource?: StepSource,
  ) {}

  private get catalog(): Catalog {
    return this.projection.state;
  }

  authenticate(authorization: string | undefined): Principal {
    const token = authorization?.match(/^Bearer (\S+)$/)?.[1];
    const principal = token ? this.catalog.identity.authenticate(token) : undefined;
    if (!principal) throw unauthenticated();
    return principal;
  }

  private async append(stream: string, events: Message[], expected: number | 'any', principal: Principal | undefined, eventId?: string): Promise<void> {
    const actor = principal ? `user:${principal.user.id}` : 'service:api-gateway';
    try {
      const res = await this.store.append(
        stream,
        events.map((message): NewEvent => ({ message, actor, eventId })),
        expected,
      );
      await this.projection.waitFor(res.position);
    } catch (err) {
      if (err instanceof ConcurrencyError) throw conflict(`${stream} changed concurrently (now at version ${err.actualVersion}); reload and retry`);
      throw err;
    }
  }

  /** The tenant if the caller may see it (admins see all), else 404: no leak of other tenants' names. */
  private tenantFor(principal: Principal, tenantId: string, action: Action): { tenant: Tenant; role: RoleName } {
    const tenant = this.catalog.identity.tenants.get(tenantId);
    const role = tenant && this.catalog.identity.roleIn(principal, tenantId);
    if (!tenant || !role) throw notFound(`tenant ${tenantId}`);
    if (!roleAllows(role, action)) throw forbidden(`your role in tenant ${tenantId} (${role}) may not ${action}`);
    return { tenant, role };
  }

  private requireAdmin(principal: Principal): void {
    if (!principal.user.admin) throw forbidden('only an administrator may do this');
  }

  // ---- users and tokens --------------------------------------------------------------

  /** First start: an admin and its token (from config, or a fresh one returned to print once). */
  async bootstrapAdmin(configuredToken?: string): Promise<string | undefined> {
    if ([...this.catalog.identity.users.values()].some((u) => u.admin)) return undefined;
    const issued = configuredToken ? tokenFromString(configuredToken) : issueToken();
    if (!issued) throw new Error('WHARF_ADMIN_TOKEN must look like wharf_<16 alphanumerics>_<43 base64url characters>');
    try {
      await this.append('user/admin', [create(eventsV1.UserCreatedSchema, { userId: 'admin', name: 'admin', admin: true })], 0, undefined);
    } catch (err) {
      if ((err as { status?: number }).status === 409) return undefined; // another instance bootstrapped first
      throw err;
    }
    await this.append(
      `token/${issued.tokenId}`,
      [create(eventsV1.TokenCreatedSchema, { tokenId: issued.tokenId, userId: 'admin', name: 'bootstrap', secretSha256: issued.secretSha256 })],
      0,
      undefined,
    );
    return configuredToken ? undefined : issued.token;
  }

  me(p: Principal) {
    const tenants = [...this.catalog.identity.tenants.values()]
      .filter((t) => this.catalog.identity.roleIn(p, t.id))
      .map((t) => ({ id: t.id, role: this.catalog.identity.roleIn(p, t.id) }));
    return { id: p.user.id, name: p.user.name, admin: p.user.admin, tenants };
  }

  async createUser(p: Principal, body: { name: string; admin: boolean }) {
    this.requireAdmin(p);
    if (this.catalog.identity.users.has(body.name)) throw conflict(`user ${body.name} already exists`);
    await this.append(`user/${body.name}`, [create(eventsV1.UserCreatedSchema, { userId: body.name, name: body.name, admin: body.admin })], 0, p);
    return { id: body.name, name: body.name, admin: body.admin };
  }

  listUsers(p: Principal, q: z.infer<typeof pageSchema>) {
    this.requireAdmin(p);
    return paginate(
      [...this.catalog.identity.users.values()].filter((u) => !q.name || u.name.includes(q.name)),
      (u) => u.id,
      q,
    );
  }

  async createToken(p: Principal, userId: string, body: { name: string; expires_in_days?: number }) {
    if (userId !== p.user.id) this.requireAdmin(p);
    if (!this.catalog.identity.users.has(userId)) throw notFound(`user ${userId}`);
    const issued = issueToken();
    const expiresAtMs = body.expires_in_days ? Date.now() + body.expires_in_days * 86_400_000 : 0;
    await this.append(
      `token/${issued.tokenId}`,
      [
        create(eventsV1.TokenCreatedSchema, {
          tokenId: issued.tokenId,
          userId,
          name: body.name,
          secretSha256: issued.secretSha256,
          expiresAtMs: BigInt(expiresAtMs),
        }),
      ],
      0,
      p,
    );
    return { id: issued.tokenId, name: body.name, user_id: userId, token: issued.token, expires_at_ms: expiresAtMs || null };
  }

  listTokens(p: Principal, q: z.infer<typeof pageSchema>) {
    const mine = [...this.catalog.identity.tokens.values()].filter((t) => t.userId === p.user.id && !t.revoked && (!q.name || t.name.includes(q.name)));
    return paginate(
      mine.map((t) => ({ id: t.id, name: t.name, user_id: t.userId, created_at_ms: t.createdAtMs, expires_at_ms: t.expiresAtMs || null })),
      (t) => t.id,
      q,
    );
  }

  async revokeToken(p: Principal, tokenId: string) {
    const t = this.catalog.identity.tokens.get(tokenId);
    if (!t || t.revoked || (t.userId !== p.user.id && !p.user.admin)) throw notFound(`token ${tokenId}`);
    await this.append(`token/${tokenId}`, [create(eventsV1.TokenRevokedSchema, { tokenId })], 'any', p);
  }

  // ---- tenants, members, quotas ---------------------------------------------------------

  tenantView(t: Tenant) {
    return {
      id: t.id,
      name: t.name,
      created_at_ms: t.createdAtMs,
      quota: { max_apps: t.quota.maxApps, max_components: t.quota.maxComponents, max_cpu_millis: t.quota.maxCpuMillis, max_memory_mib: t.quota.maxMemoryMib },
    };
  }

  async createTenant(p: Principal, body: { name: string }) {
    this.requireAdmin(p);
    if (this.catalog.identity.tenants.has(body.name)) throw conflict(`tenant ${body.name} already exists`);
    await this.append(`tenant/${body.name}`, [create(eventsV1.TenantCreatedSchema, { tenantId: body.name, name: body.name })], 0, p);
    return this.tenantView(this.catalog.identity.tenants.get(body.name)!);
  }

  listTenants(p: Principal, q: z.infer<typeof pageSchema>) {
    const visible = [...this.catalog.identity.tenants.values()].filter((t) => this.catalog.identity.roleIn(p, t.id) && (!q.name || t.name.includes(q.name)));
    const page = paginate(visible, (t) => t.id, q);
    return { items: page.items.map((t) => this.tenantView(t)), next_cursor: page.next_cursor };
  }

  getTenant(p: Principal, tenantId: string) {
    return this.tenantView(this.tenantFor(p, tenantId, 'read').tenant);
  }

  listMembers(p: Principal, tenantId: string, q: z.infer<typeof pageSchema>) {
    const { tenant } = this.tenantFor(p, tenantId, 'read');
    const members = [...tenant.members]
      .map(([user_id, role]) => ({ user_id, role }))
      .filter((m) => (!q.role || m.role === q.role) && (!q.name || m.user_id.includes(q.name)));
    return paginate(members, (m) => m.user_id, q);
  }

  /** The version the write expects: If-Match when given (a stale one is 409 before anything is appended), else the current one. */
  private expectTenant(tenant: Tenant, ifMatch: number | undefined): number {
    if (ifMatch !== undefined && ifMatch !== tenant.version)
      throw conflict(`tenant ${tenant.id} is at version ${tenant.version}, If-Match said ${ifMatch}; reload and retry`, 'version_mismatch');
    return tenant.version;
  }

  tenantVersion(tenantId: string): number {
    return this.catalog.identity.tenants.get(tenantId)?.version ?? 0;
  }

  async setMember(p: Principal, tenantId: string, userId: string, role: RoleName, ifMatch?: number) {
    const { tenant } = this.tenantFor(p, tenantId, 'manage-members');
    if (!this.catalog.identity.users.has(userId)) throw badRequest('user_id', `no user ${userId}`);
    await this.append(
      `tenant/${tenantId}`,
      [create(eventsV1.MemberSetSchema, { tenantId, userId, role: roleValue[role] })],
      this.expectTenant(tenant, ifMatch),
      p,
    );
    return { user_id: userId, role };
  }

  async removeMember(p: Principal, tenantId: string, userId: string, ifMatch?: number) {
    const { tenant } = this.tenantFor(p, tenantId, 'manage-members');
    if (!tenant.members.has(userId)) throw notFound(`member ${userId}`);
    await this.append(`tenant/${tenantId}`, [create(eventsV1.MemberRemovedSchema, { tenantId, userId })], this.expectTenant(tenant, ifMatch), p);
  }

  async setQuota(p: Principal, tenantId: string, q: z.infer<typeof quotaSchema>, ifMatch?: number) {
    const { tenant } = this.tenantFor(p, tenantId, 'read');
    this.requireAdmin(p);
    await this.append(
      `tenant/${tenantId}`,
      [
        create(eventsV1.QuotaSetSchema, {
          tenantId,
          maxApps: q.max_apps,
          maxComponents: q.max_components,
          maxCpuMillis: q.max_cpu_millis,
          maxMemoryMib: q.max_memory_mib,
        }),
      ],
      this.expectTenant(tenant, ifMatch),
      p,
    );
    return this.tenantView(this.catalog.identity.tenants.get(tenantId)!).quota;
  }

  // ---- apps ----------------------------------------------------------------------------

  private appView(a: { id: string; name: string; description: string; createdAtMs: number; version: number }) {
    return {
      id: a.id,
      name: a.name,
      description: a.description,
      version: a.version,
      created_at_ms: a.createdAtMs,
      components: this.catalog.componentsByApp.get(a.id)?.size ?? 0,
    };
  }

  private liveApps(tenantId: string) {
    return [...this.catalog.apps.values()].filter((a) => a.tenantId === tenantId && !a.deleted);
  }

  async createApp(p: Principal, tenantId: string, body: { name: string; description: string }) {
    const { tenant } = this.tenantFor(p, tenantId, 'write');
    const id = `${tenantId}.${body.name}`;
    const existing = this.catalog.apps.get(id);
    if (existing && !existing.deleted) throw conflict(`app ${body.name} already exists in tenant ${tenantId}`);
    if (tenant.quota.maxApps && this.liveApps(tenantId).length >= tenant.quota.maxApps)
      throw forbidden(`quota: tenant ${tenantId} may have at most ${tenant.quota.maxApps} apps`);
    await this.append(
      `app/${id}`,
      [create(eventsV1.AppCreatedSchema, { appId: id, tenantId, name: body.name, description: body.description })],
      existing?.version ?? 0,
      p,
    );
    return this.appView(this.catalog.apps.get(id)!);
  }

  listApps(p: Principal, tenantId: string, q: z.infer<typeof pageSchema>) {
    this.tenantFor(p, tenantId, 'read');
    const page = paginate(
      this.liveApps(tenantId).filter((a) => !q.name || a.name.includes(q.name)),
      (a) => a.id,
      q,
    );
    return { items: page.items.map((a) => this.appView(a)), next_cursor: page.next_cursor };
  }

  private app(p: Principal, tenantId: string, appId: string, action: Action) {
    this.tenantFor(p, tenantId, action);
    const app = this.catalog.apps.get(appId);
    if (!app || app.deleted || app.tenantId !== tenantId) throw notFound(`app ${appId}`);
    return app;
  }

  getApp(p: Principal, tenantId: string, appId: string) {
    return this.appView(this.app(p, tenantId, appId, 'read'));
  }

  async deleteApp(p: Principal, tenantId: string, appId: string) {
    const app = this.app(p, tenantId, appId, 'write');
    if (this.catalog.componentsByApp.get(appId)?.size) throw conflict(`app ${appId} still has components; delete them first`);
    await this.append(`app/${appId}`, [create(eventsV1.AppDeletedSchema, { appId })], app.version, p);
  }

  // ---- components ----------------------------------------------------------------------

  private toSpec(componentId: string, name: string, s: Spec): eventsV1.ComponentSpec {
    const source =
      'image' in s.source
        ? { case: 'image' as const, value: create(eventsV1.ImageSourceSchema, { image: s.source.image }) }
        : {
            case: 'git' as const,
            value: create(eventsV1.GitSourceSchema, {
              url: s.source.git.url,
              branch: s.source.git.branch,
              subDir: s.source.git.sub_dir,
              dockerfile: s.source.git.dockerfile,
            }),
          };
    const names = new Set<string>();
    for (const e of s.env) {
      if (names.has(e.name)) throw badRequest('env', `variable ${e.name} is given twice`);
      names.add(e.name);
    }
    if (s.depends_on.includes(name)) throw badRequest('depends_on', 'a component cannot depend on itself');
    return create(eventsV1.ComponentSpecSchema, {
      name,
      source,
      ports: s.ports,
      env: s.env.map((e) =>
        e.secret ? { name: e.name, secret: true, encryptedValue: this.secrets.seal(e.value, `${componentId}/${e.name}`) } : { name: e.name, value: e.value },
      ),
      cpuMillis: s.cpu_millis,
      memoryMib: s.memory_mib,
      replicas: s.replicas,
      probe: s.probe && {
        kind: s.probe.kind,
        path: s.probe.path ?? '',
        port: s.probe.port ?? 0,
        command: s.probe.command ?? [],
        initialDelayS: s.probe.initial_delay_s,
        periodS: s.probe.period_s,
        failureThreshold: s.probe.failure_threshold,
      },
      volumes: s.volumes.map((v) => ({ name: v.name, mountPath: v.mount_path, sizeMib: v.size_mib })),
      dependsOn: s.depends_on,
      routes: s.routes.map((r) => ({ host: r.host, pathPrefix: r.path_prefix, port: r.port })),
      tcpPorts: s.tcp_ports.map((t) => ({ listenPort: t.listen_port, port: t.port })),
    });
  }

  /** The JSON shape of a component; secret values never leave in clear. */
  componentView(c: ComponentView): ReturnType<Gateway['buildComponentView']> {
    // Reads far outnumber changes: build the view once per change (less garbage, steadier p99).
    const cache = (c.cache ??= {});
    return (cache.view ??= this.buildComponentView(c)) as ReturnType<Gateway['buildComponentView']>;
  }

  /** The component as JSON text, serialised once per change (GET is the hot path). */
  componentJson(c: ComponentView): string {
    const cache = (c.cache ??= {});
    return (cache.json ??= JSON.stringify(this.componentView(c)));
  }

  private buildComponentView(c: ComponentView) {
    const s = c.spec;
    return {
      id: c.id,
      app_id: c.appId,
      name: c.name,
      version: c.version,
      source:
        s.source.case === 'image'
          ? { image: s.source.value.image }
          : s.source.case === 'git'
            ? { git: { url: s.source.value.url, branch: s.source.value.branch, sub_dir: s.source.value.subDir, dockerfile: s.source.value.dockerfile } }
            : null,
      ports: s.ports.map((x) => ({ port: x.port, protocol: x.protocol, public: x.public })),
      env: s.env.map((e) => (e.secret ? { name: e.name, secret: true, value: null } : { name: e.name, secret: false, value: e.value })),
      cpu_millis: s.cpuMillis,
      memory_mib: s.memoryMib,
      replicas: s.replicas,
      probe: s.probe
        ? {
            kind: s.probe.kind,
            path: s.probe.path || undefined,
            port: s.probe.port || undefined,
            command: s.probe.command.length ? s.probe.command : undefined,
            initial_delay_s: s.probe.initialDelayS,
            period_s: s.probe.periodS,
            failure_threshold: s.probe.failureThreshold,
          }
        : null,
      volumes: s.volumes.map((v) => ({ name: v.name, mount_path: v.mountPath, size_mib: v.sizeMib })),
      stateful: s.volumes.length > 0,
      depends_on: s.dependsOn,
      routes: s.routes.map((r) => ({ host: r.host, path_prefix: r.pathPrefix, port: r.port })),
      tcp_ports: s.tcpPorts.map((t) => ({ listen_port: t.listenPort, port: t.port })),
      active_operation: c.activeOperation ?? null,
      current_version: c.currentVersion ?? null,
      previous_version: c.previousVersion ?? null,
      versions: c.versions.length,
      created_at_ms: c.createdAtMs,
      updated_at_ms: c.updatedAtMs,
    };
  }

  /** Lists carry a summary; GET of one component has everything. */
  componentSummary(c: ComponentView) {
    const src = c.spec.source;
    return {
      id: c.id,
      name: c.name,
      version: c.version,
      source: src.case === 'image' ? { image: src.value.image } : src.case === 'git' ? { git: { url: src.value.url, branch: src.value.branch } } : null,
      replicas: c.spec.replicas,
      active_operation: c.activeOperation ?? null,
      updated_at_ms: c.updatedAtMs,
    };
  }

  private checkQuota(tenant: Tenant, spec: Spec, replacing?: ComponentView): void {
    const q = tenant.quota;
    const live = [...this.catalog.components.values()].filter((c) => c.tenantId === tenant.id && !c.deleted && c !== replacing);
    if (!replacing && q.maxComponents && live.length >= q.maxComponents)
      throw forbidden(`quota: tenant ${tenant.id} may have at most ${q.maxComponents} components`);
    const cpu = live.reduce((n, c) => n + c.spec.cpuMillis * c.spec.replicas, 0) + spec.cpu_millis * spec.replicas;
    const mem = live.reduce((n, c) => n + c.spec.memoryMib * c.spec.replicas, 0) + spec.memory_mib * spec.replicas;
    if (q.maxCpuMillis && cpu > q.maxCpuMillis)
      throw forbidden(`quota: tenant ${tenant.id} may use at most ${q.maxCpuMillis} cpu millis (this would use ${cpu})`);
    if (q.maxMemoryMib && mem > q.maxMemoryMib) throw forbidden(`quota: tenant ${tenant.id} may use at most ${q.maxMemoryMib} MiB (this would use ${mem})`);
  }

  async createComponent(p: Principal, tenantId: string, appId: string, body: z.infer<typeof createComponentSchema>) {
    const app = this.app(p, tenantId, appId, 'write');
    const { tenant } = this.tenantFor(p, tenantId, 'write');
    const id = `${app.id}.${body.name}`;
    const existing = this.catalog.components.get(id);
    if (existing && !existing.deleted) throw conflict(`component ${body.name} already exists in app ${appId}`);
    this.checkQuota(tenant, body);
    const { name, ...spec } = body;
    await this.append(
      `component/${id}`,
      [create(eventsV1.ComponentCreatedSchema, { componentId: id, appId: app.id, tenantId, spec: this.toSpec(id, name, spec) })],
      existing?.version ?? 0,
      p,
    );
    return this.componentView(this.catalog.components.get(id)!);
  }

  private componentsPage(p: Principal, tenantId: string, appId: string, q: z.infer<typeof pageSchema>): Page<ComponentView> {
    this.app(p, tenantId, appId, 'read');
    const sorted = this.catalog.sortedComponents(appId);
    let page: Page<ComponentView>;
    if (q.name)
      page = paginate(
        sorted.filter((c) => c.name.includes(q.name!)),
        (c) => c.id,
        q,
      );
    else {
      // Binary search for the cursor: a page costs O(log n + limit), not a sort of every component.
      let lo = 0;
      let hi = sorted.length;
      while (q.cursor && lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid].id <= q.cursor) lo = mid + 1;
        else hi = mid;
      }
      const items = sorted.slice(lo, lo + q.limit);
      page = { items, next_cursor: lo + q.limit < sorted.length ? items[items.length - 1].id : null };
    }
    return page;
  }

  listComponents(p: Principal, tenantId: string, appId: string, q: z.infer<typeof pageSchema>) {
    const page = this.componentsPage(p, tenantId, appId, q);
    return { items: page.items.map((c) => this.componentSummary(c)), next_cursor: page.next_cursor };
  }

  /** listComponents as JSON text, from summaries serialised once per change (a page is then string joins). */
  listComponentsJson(p: Principal, tenantId: string, appId: string, q: z.infer<typeof pageSchema>): string {
    const page = this.componentsPage(p, tenantId, appId, q);
    const items = page.items.map((c) => {
      const cache = (c.cache ??= {});
      return (cache.summary ??= JSON.stringify(this.componentSummary(c)));
    });
    return `{"items":[${items.join(',')}],"next_cursor":${JSON.stringify(page.next_cursor)}}`;
  }

  component(p: Principal, tenantId: string, componentId: string, action: Action): ComponentView {
    this.tenantFor(p, tenantId, action);
    const c = this.catalog.components.get(componentId);
    if (!c || c.deleted || c.tenantId !== tenantId) throw notFound(`component ${componentId}`);
    return c;
  }

  /** Replaces the spec; ifMatch is the version the caller read (ETag), a stale one answers 409. */
  async updateComponent(p: Principal, tenantId: string, componentId: string, spec: Spec, ifMatch: number | undefined) {
    const c = this.component(p, tenantId, componentId, 'write');
    const { tenant } = this.tenantFor(p, tenantId, 'write');
    const expected = ifMatch ?? c.version;
    if (expected !== c.version)
      throw conflict(`component ${componentId} is at version ${c.version}, If-Match said ${expected}; reload and retry`, 'version_mismatch');
    this.checkQuota(tenant, spec, c);
    await this.append(
      `component/${componentId}`,
      [create(eventsV1.ComponentUpdatedSchema, { componentId, spec: this.toSpec(componentId, c.name, spec) })],
      expected,
      p,
    );
    return this.componentView(this.catalog.components.get(componentId)!);
  }

  /** Delete is an async action like the others (replicas must go first): 202, and the component disappears when it succeeds. */
  deleteComponent(p: Principal, tenantId: string, componentId: string, ifMatch: number | undefined, queue = false) {
    return this.requestOperation(p, tenantId, componentId, { kind: 'delete', queue }, ifMatch);
  }

  // ---- operations ----------------------------------------------------------------------

  // ---- versions ------------------------------------------------------------------------

  versionView(v: VersionView) {
    return { id: v.id, source: v.source, image: v.image, build_event_id: v.buildEventId || null, status: v.status, created_at_ms: v.timeMs };
  }

  /** Newest first; cursor = the last version id of the previous page. */
  listVersions(p: Principal, tenantId: string, componentId: string, q: z.infer<typeof versionPageSchema>) {
    const c = this.component(p, tenantId, componentId, 'read');
    const newest = [...c.versions].reverse().filter((v) => !q.status || v.status === q.status);
    const start = q.cursor ? newest.findIndex((v) => v.id === q.cursor) + 1 : 0;
    if (q.cursor && start === 0) throw badRequest('cursor', 'is not a version of this component');
    const items = newest.slice(start, start + q.limit);
    return { items: items.map((v) => this.versionView(v)), next_cursor: start + q.limit < newest.length ? items[items.length - 1].id : null };
  }

  getVersion(p: Principal, tenantId: string, componentId: string, versionId: string) {
    const v = this.component(p, tenantId, componentId, 'read').versions.find((x) => x.id === versionId);
    if (!v) throw notFound(`version ${versionId}`);
    return this.versionView(v);
  }

  /** The version a deploy/upgrade/rollback acts on: the named one (must exist), or for rollback the previous one. */
  private targetVersion(c: ComponentView, kind: string, versionId: string | undefined): string | undefined {
    if (versionId) {
      if (!c.versions.some((v) => v.id === versionId)) throw badRequest('version_id', `component ${c.id} has no version ${versionId}`);
      return versionId;
    }
    if (kind === 'rollback') {
      if (!c.previousVersion) throw conflict(`component ${c.id} has no previous version to roll back to`, 'no_previous_version');
      return c.previousVersion;
    }
    return undefined;
  }

  /** 202 {event_id}: the operation's first event is appended, then its task is enqueued. */
  async requestOperation(p: Principal, tenantId: string, componentId: string, body: z.infer<typeof operationSchema>, ifMatch?: number) {
    const c = this.component(p, tenantId, componentId, body.kind === 'delete' ? 'write' : 'operate');
    if (ifMatch !== undefined && ifMatch !== c.version)
      throw conflict(`component ${componentId} is at version ${c.version}, If-Match said ${ifMatch}; reload and retry`, 'version_mismatch');
    if (c.activeOperation && !body.queue)
      throw conflict(
        `operation ${c.activeOperation} on component ${componentId} has no final status yet; pass "queue": true to run after it`,
        'operation_running',
      );
    const eventId = `evt-${randomUUID()}`;
    const versionId = this.targetVersion(c, body.kind, body.version_id);
    const args = JSON.stringify({ ...(body.replicas !== undefined ? { replicas: body.replicas } : {}), ...(versionId ? { version_id: versionId } : {}) });
    const requested = create(eventsV1.OperationRequestedSchema, {
      eventId,
      kind: kindValue[body.kind],
      target: `component/${componentId}`,
      tenantId,
      argsJson: args,
    });
    await this.append(`component/${componentId}`, [requested], c.version, p, eventId);
    // Queued behind a running operation: mq gets it when the catalog hands over (see main.ts).
    const op = this.catalog.operations.get(eventId);
    const queued = this.catalog.components.get(componentId)?.activeOperation !== eventId;
    if (op && !queued) await this.tasks.dispatch(op);
    return { event_id: eventId, queued };
  }

  operationView(o: OperationView) {
    return {
      event_id: o.eventId,
      kind: o.kind,
      target: o.target,
      status: o.status,
      message: o.message || null,
      failed_step: o.failedStep || null,
      args: o.args ? JSON.parse(o.args) : {},
      actor: o.actor,
      created_at_ms: o.createdAtMs,
      finished_at_ms: o.finishedAtMs ?? null,
    };
  }

  listOperations(p: Principal, tenantId: string, q: z.infer<typeof pageSchema>) {
    this.tenantFor(p, tenantId, 'read');
    const ops = [...this.catalog.operations.values()].filter(
      (o) => o.tenantId === tenantId && (!q.status || o.status === q.status) && (!q.kind || o.kind === q.kind),
    );
    const page = paginate(ops, (o) => o.eventId, q);
    return { items: page.items.map((o) => this.operationView(o)), next_cursor: page.next_cursor };
  }

  /** One operation with its steps from event-log; if event-log cannot answer, steps is null and steps_error says why. */
  async getOperation(p: Principal, tenantId: string, eventId: string) {
    this.tenantFor(p, tenantId, 'read');
    const o = this.catalog.operations.get(eventId);
    if (!o || o.tenantId !== tenantId) throw notFound(`operation ${eventId}`);
    let steps: StepView[] | null = [];
    let stepsError: string | undefined;
    if (this.stepSource) {
      try {
        steps = await this.stepSource.steps(eventId);
      } catch (err) {
        steps = null;
        stepsError = `event-log did not answer: ${(err as Error).message}`;
      }
    } else stepsError = 'no event-log configured (WHARF_EVENTLOG_ADDR)';
    return { ...this.operationView(o), steps, ...(stepsError ? { steps_error: stepsError } : {}) };
  }
}

export const newId = () => randomBytes(6).toString('hex');
