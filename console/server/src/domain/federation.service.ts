import { errorOf, invalidArgument, isErrorCode, WharfError } from '@wharf/errors';
import { mapBounded } from './bounded-pool';
import type { DataCenter } from './console-state';
import type { DataCentersService } from './data-centers.service';
import { DataCenterUnreachableError, type DataCenterApi, type DcResponse } from './ports';
import type { FederatedCreate } from './schemas';

/** How one data center answered a federated read. */
export interface DcOutcome {
  id: string;
  name: string;
  status: 'ok' | 'unreachable' | 'not_linked' | 'error' | 'unsupported';
  message: string | null;
}

export interface Federated<T> {
  items: T[];
  data_centers: DcOutcome[];
}

/** Calls into one data center as one console user. */
interface DcSession {
  dc: DataCenter;
  get(path: string): Promise<unknown>;
  send(method: string, path: string, body?: unknown): Promise<DcResponse>;
}

/** A data center's own error answer, kept as it said it (code, message, field). */
export class DataCenterError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const e = (body as { error?: { code?: string; message?: string; field?: string } })?.error;
    super(e?.message ?? `HTTP ${status}`);
  }

  get error(): { code: string; message: string; field?: string } {
    const e = (this.body as { error?: { code?: string; message?: string; field?: string } })?.error;
    return { code: e?.code ?? 'error', message: e?.message ?? this.message, ...(e?.field ? { field: e.field } : {}) };
  }
}

const PAGE = 200;
/** Pages read per list per data center: a bound on one federated read (PAGE x MAX_PAGES objects). */
const MAX_PAGES = 25;
/** Calls in flight per data center during one federated read. */
const PER_DC = 8;

const tenantsOfMe = (me: unknown) => ((me as { tenants?: { id: string; role: string }[] })?.tenants ?? []).map((t) => ({ id: t.id, role: t.role }));

/**
 * The federation: one view across data centers, each object tagged with its data center,
 * each data center called with the caller's own token (its RBAC decides; the console adds
 * nothing). A data center that fails is reported beside the others' answers, never in their way.
 */
export class FederationService {
  constructor(
    private readonly dataCenters: DataCentersService,
    private readonly api: DataCenterApi,
  ) {}

  private session(dc: DataCenter, actor: string): DcSession | null {
    const token = this.dataCenters.tokenFor(dc, actor);
    if (!token) return null;
    const send = (method: string, path: string, body?: unknown) => this.api.call(dc, token, method, path, body);
    return {
      dc,
      send,
      async get(path: string) {
        const res = await send('GET', path);
        if (res.status !== 200) throw new DataCenterError(res.status, res.body);
        return res.body;
      },
    };
  }

  /** Every page of a list, bounded. */
  private async all(s: DcSession, path: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const body = (await s.get(`${path}${sep}limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)) as {
        items: Record<string, unknown>[];
        next_cursor: string | null;
      };
      items.push(...body.items);
      cursor = body.next_cursor;
      if (!cursor) break;
    }
    return items;
  }

  /** Runs `read` in every data center at once; each one's failure becomes its outcome. */
  private async across<T>(actor: string, read: (s: DcSession) => Promise<T[]>, only?: string): Promise<Federated<T & { dc: string; dc_name: string }>> {
    const dcs = only ? [this.dataCenters.find(only)] : this.dataCenters.all();
    const results = await Promise.all(
      dcs.map(async (dc): Promise<{ outcome: DcOutcome; items: T[] }> => {
        const base = { id: dc.id, name: dc.name };
        const s = this.session(dc, actor);
        if (!s) return { outcome: { ...base, status: 'not_linked', message: 'link your token for this data center to see it' }, items: [] };
        try {
          return { outcome: { ...base, status: 'ok', message: null }, items: await read(s) };
        } catch (err) {
          if (err instanceof DataCenterUnreachableError) return { outcome: { ...base, status: 'unreachable', message: err.message }, items: [] };
          if (err instanceof DataCenterError) {
            const status = err.status === 404 && err.error.code === 'not_found' && err.error.message === 'no such route' ? 'unsupported' : 'error';
            return { outcome: { ...base, status, message: `${err.error.code}: ${err.error.message}` }, items: [] };
          }
          throw err;
        }
      }),
    );
    return {
      items: results.flatMap((r, i) => r.items.map((item) => ({ ...item, dc: dcs[i].id, dc_name: dcs[i].name }))),
      data_centers: results.map((r) => r.outcome),
    };
  }

  private async tenants(s: DcSession, tenant?: string) {
    const mine = tenantsOfMe(await s.get('/api/v1/me'));
    return tenant ? mine.filter((t) => t.id === tenant) : mine;
  }

  teams(actor: string, q: { dc?: string }) {
    return this.across(actor, (s) => this.tenants(s), q.dc);
  }

  apps(actor: string, q: { dc?: string; tenant?: string }) {
    return this.across(
      actor,
      async (s) => {
        const tenants = await this.tenants(s, q.tenant);
        const lists = await mapBounded(tenants, PER_DC, async (t) =>
          (await this.all(s, `/api/v1/tenants/${encodeURIComponent(t.id)}/apps`)).map((a) => ({ ...a, tenant: t.id })),
        );
        return lists.flat();
      },
      q.dc,
    );
  }

  components(actor: string, q: { dc?: string; tenant?: string; app?: string }) {
    return this.across(
      actor,
      async (s) => {
        const tenants = await this.tenants(s, q.tenant);
        const apps = (
          await mapBounded(tenants, PER_DC, async (t) =>
            (await this.all(s, `/api/v1/tenants/${encodeURIComponent(t.id)}/apps`)).map((a) => ({ tenant: t.id, id: String(a.id), name: String(a.name) })),
          )
        )
          .flat()
          .filter((a) => !q.app || a.name === q.app || a.id === q.app);
        const lists = await mapBounded(apps, PER_DC, async (a) =>
          (await this.all(s, `/api/v1/tenants/${encodeURIComponent(a.tenant)}/apps/${encodeURIComponent(a.id)}/components`)).map((c) => ({
            ...c,
            tenant: a.tenant,
            app: a.id,
            app_name: a.name,
            status: componentStatus(c),
          })),
        );
        return lists.flat();
      },
      q.dc,
    );
  }

  /** Nodes come from each data center's node API (node-manager; one list, no pages); one without it says so. */
  nodes(actor: string, q: { dc?: string }) {
    return this.across(actor, async (s) => ((await s.get('/api/v1/nodes')) as { items: Record<string, unknown>[] }).items, q.dc);
  }

  /** One operation's record (with its steps) in one data center. */
  async operation(actor: string, dc: string, tenant: string, eventId: string): Promise<unknown> {
    const res = await this.passthrough(actor, dc, 'GET', `/api/v1/tenants/${encodeURIComponent(tenant)}/operations/${encodeURIComponent(eventId)}`);
    if (res.status !== 200) throw new DataCenterError(res.status, res.body);
    return res.body;
  }

  /** Any call of a data center's REST API, as the caller (the data center's RBAC decides). */
  async passthrough(actor: string, dcIdOrName: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<DcResponse> {
    if (!/^\/api\/v1\/[A-Za-z0-9._~\-/%]*(\?[A-Za-z0-9._~\-=&%]*)?$/.test(path) || path.includes('..')) {
      throw invalidArgument('path', 'must be a path of the data center API under /api/v1/');
    }
    const dc = this.dataCenters.find(dcIdOrName);
    const s = this.session(dc, actor);
    if (!s) throw invalidArgument('dc', `you have no token for data center ${dc.name}: link one first`);
    return this.api.call(dc, this.dataCenters.tokenFor(dc, actor), method, path, body, headers);
  }

  /**
   * Creates one component in several data centers at once (each in the caller's team there):
   * the app is made where it is missing, then the component, then (deploy) a build that rolls
   * out. Each data center goes as far as it can; the answer says, per data center, what was made
   * and the operation to follow, or its error.
   */
  async createComponent(actor: string, input: FederatedCreate) {
    const seen = new Set<string>();
    for (const [i, t] of input.targets.entries()) {
      const dc = this.dataCenters.find(t.dc);
      if (seen.has(dc.id)) throw invalidArgument(`targets.${i}.dc`, `${dc.name} is listed twice`);
      seen.add(dc.id);
      if (!this.dataCenters.tokenFor(dc, actor)) throw invalidArgument(`targets.${i}.dc`, `you have no token for data center ${dc.name}: link one first`);
    }
    const spec = {
      name: input.name,
      source: input.source,
      ports: input.ports.map((p) => ({ port: p.port, protocol: 'http', public: p.public })),
      replicas: input.replicas,
    };
    return Promise.all(
      input.targets.map(async (t) => {
        const dc = this.dataCenters.find(t.dc);
        const base = { dc: dc.id, dc_name: dc.name, tenant: t.tenant };
        const s = this.session(dc, actor)!;
        const tenantPath = `/api/v1/tenants/${encodeURIComponent(t.tenant)}`;
        const appId = `${t.tenant}.${input.app}`;
        try {
          const app = await s.send('GET', `${tenantPath}/apps/${encodeURIComponent(appId)}`);
          if (app.status === 404) {
            const made = await s.send('POST', `${tenantPath}/apps`, { name: input.app });
            if (made.status !== 201 && made.status !== 409) throw new DataCenterError(made.status, made.body);
          } else if (app.status !== 200) throw new DataCenterError(app.status, app.body);
          const created = await s.send('POST', `${tenantPath}/apps/${encodeURIComponent(appId)}/components`, spec);
          if (created.status !== 201) throw new DataCenterError(created.status, created.body);
          const componentId = String((created.body as { id: string }).id);
          let eventId: string | null = null;
          if (input.deploy) {
            const op = await s.send('POST', `${tenantPath}/components/${encodeURIComponent(componentId)}/operations`, { kind: 'build', deploy_after: true });
            if (op.status !== 202)
              return { ...base, status: 'created' as const, component_id: componentId, event_id: null, error: new DataCenterError(op.status, op.body).error };
            eventId = String((op.body as { event_id: string }).event_id);
          }
          return { ...base, status: 'created' as const, component_id: componentId, event_id: eventId, error: null };
        } catch (err) {
          if (err instanceof DataCenterUnreachableError) return { ...base, status: 'failed' as const, error: { code: 'unreachable', message: err.message } };
          if (err instanceof DataCenterError) return { ...base, status: 'failed' as const, error: err.error };
          throw err;
        }
      }),
    );
  }
}

/**
 * What the console shows as a component's status: the data center's own `status` when it
 * reports one (app-manager publishes runtime status), else what the API's summary tells.
 */
export function componentStatus(c: Record<string, unknown>): string {
  if (typeof c.status === 'string') return c.status;
  if (c.active_operation) return 'operation running';
  if (c.replicas === 0) return 'scaled to zero';
  return 'idle';
}

/** A data center's error answer as the console's own error (same code, message and field). */
export function asWharfError(err: DataCenterError, dcName: string): WharfError {
  const e = err.error;
  const code = e.code === 'invalid' ? 'invalid_argument' : e.code === 'forbidden' ? 'permission_denied' : e.code;
  return errorOf(isErrorCode(code) ? code : 'failed_precondition', `${dcName}: ${e.message}`, e.field ? { field: e.field } : {});
}
