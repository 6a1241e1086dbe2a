import { ConflictError, invalidArgument, NotFoundError } from '@wharf/errors';
import { X509Certificate } from 'node:crypto';
import { DataCenterError } from './federation.service';
import type { DcResponse } from './ports';
import type { CertificateInput, RouteInput } from './schemas';

/** Calls into a data center as the caller (FederationService.passthrough). */
export interface DcCaller {
  passthrough(actor: string, dc: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<DcResponse>;
}

export interface ComponentRef {
  dc: string;
  tenant: string;
  component: string;
}

/** A component's routes as the data center's component view has them. */
interface StoredHttpRoute {
  host: string;
  path_prefix: string;
  port: number;
  https_redirect: boolean;
  tls: { certificate_pem: string } | null;
}
interface StoredTcpPort {
  listen_port: number;
  port: number;
}
interface StoredComponent {
  version: number;
  ports: { port: number; protocol: string }[];
  routes: StoredHttpRoute[];
  tcp_ports: StoredTcpPort[];
}

/** What the browser sees of a certificate: never a key (the data center does not return it either). */
export interface CertificateView {
  certificate_pem: string;
  subject: string | null;
  names: string[];
  issuer: string | null;
  not_after_ms: number | null;
}

export type RouteView =
  | { id: string; kind: 'http'; host: string; path_prefix: string; port: number; https_redirect: boolean; tls: CertificateView | null }
  | { id: string; kind: 'tcp'; listen_port: number; port: number };

export interface ComponentRoutesView {
  dc: string;
  tenant: string;
  component: string;
  version: number;
  ports: { port: number; protocol: string }[];
  routes: RouteView[];
}

/** A route's id in the console's API: `<host><path prefix>` for HTTP, `tcp:<listen port>` for TCP. */
export const httpRouteId = (r: { host: string; path_prefix: string }) => `${r.host}${r.path_prefix}`;
export const tcpRouteId = (t: { listen_port: number }) => `tcp:${t.listen_port}`;

/** Subject, names and expiry of a PEM certificate's leaf, for display; nulls when it does not parse. */
export function certificateView(pem: string): CertificateView {
  try {
    const leaf = new X509Certificate(pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)?.[0] ?? '');
    const names = (leaf.subjectAltName ?? '')
      .split(', ')
      .filter((n) => n.startsWith('DNS:'))
      .map((n) => n.slice(4));
    const notAfter = Date.parse(leaf.validTo);
    return {
      certificate_pem: pem,
      subject: leaf.subject.replace(/\n/g, ', '),
      names,
      issuer: leaf.issuer.replace(/\n/g, ', '),
      not_after_ms: Number.isFinite(notAfter) ? notAfter : null,
    };
  } catch {
    return { certificate_pem: pem, subject: null, names: [], issuer: null, not_after_ms: null };
  }
}

/** The PATCH body's shape of one stored route: its certificate sent back without a key, which keeps the stored one. */
const keptHttp = (r: StoredHttpRoute) => ({
  host: r.host,
  path_prefix: r.path_prefix,
  port: r.port,
  https_redirect: r.https_redirect,
  ...(r.tls ? { tls: { certificate_pem: r.tls.certificate_pem } } : {}),
});

/** The edit a change makes: the PATCH body, and which entry of it is the caller's route (its errors go to the form's fields). */
interface Edit {
  body: { routes?: unknown[]; tcp_ports?: unknown[] };
  target?: { list: 'routes' | 'tcp_ports'; index: number; tlsOnly?: boolean };
}

/** How many times a change is read and written again when the component changed in between (409 version_mismatch). */
const ATTEMPTS = 3;

/**
 * A component's gateway routes through the console: list, add, change, remove, and a route's
 * certificate. Each change reads the component (its ETag), edits the list and writes it back
 * with one PATCH guarded by If-Match, so nothing is half-done: the data center takes the whole
 * change or none of it. Routes the change does not touch keep their stored keys (a TLS route
 * sent without its key keeps it). The data center's errors come back with their field renamed
 * to the form's (`routes[2].tls.certificate_pem` -> `tls.certificate_pem`) when they are about
 * the route being changed.
 */
export class ComponentRoutesService {
  constructor(private readonly dcs: DcCaller) {}

  private path(ref: ComponentRef): string {
    return `/api/v1/tenants/${encodeURIComponent(ref.tenant)}/components/${encodeURIComponent(ref.component)}`;
  }

  private async read(actor: string, ref: ComponentRef): Promise<{ c: StoredComponent; etag: string | undefined }> {
    const res = await this.dcs.passthrough(actor, ref.dc, 'GET', this.path(ref));
    if (res.status !== 200) throw new DataCenterError(res.status, res.body);
    return { c: res.body as StoredComponent, etag: res.etag };
  }

  private view(ref: ComponentRef, c: StoredComponent): ComponentRoutesView {
    return {
      ...ref,
      version: c.version,
      ports: c.ports.map((p) => ({ port: p.port, protocol: p.protocol })),
      routes: [
        ...c.routes.map((r): RouteView => ({
          id: httpRouteId(r),
          kind: 'http',
          host: r.host,
          path_prefix: r.path_prefix,
          port: r.port,
          https_redirect: r.https_redirect,
          tls: r.tls ? certificateView(r.tls.certificate_pem) : null,
        })),
        ...c.tcp_ports.map((t): RouteView => ({ id: tcpRouteId(t), kind: 'tcp', listen_port: t.listen_port, port: t.port })),
      ],
    };
  }

  async list(actor: string, ref: ComponentRef): Promise<ComponentRoutesView> {
    return this.view(ref, (await this.read(actor, ref)).c);
  }

  /** Read, edit, PATCH with If-Match; again from a fresh read when the component changed meanwhile. */
  private async change(actor: string, ref: ComponentRef, edit: (c: StoredComponent) => Edit): Promise<ComponentRoutesView> {
    for (let attempt = 1; ; attempt++) {
      const { c, etag } = await this.read(actor, ref);
      const { body, target } = edit(c);
      const res = await this.dcs.passthrough(actor, ref.dc, 'PATCH', this.path(ref), body, etag ? { 'if-match': etag } : {});
      if (res.status === 200) return this.view(ref, res.body as StoredComponent);
      const err = new DataCenterError(res.status, res.body);
      if (res.status === 409 && err.error.code === 'version_mismatch' && attempt < ATTEMPTS) continue;
      throw formError(err, body, target);
    }
  }

  private static find(c: StoredComponent, routeId: string): { list: 'routes'; index: number } | { list: 'tcp_ports'; index: number } {
    const http = c.routes.findIndex((r) => httpRouteId(r) === routeId);
    if (http >= 0) return { list: 'routes', index: http };
    const tcp = c.tcp_ports.findIndex((t) => tcpRouteId(t) === routeId);
    if (tcp >= 0) return { list: 'tcp_ports', index: tcp };
    const ids = [...c.routes.map(httpRouteId), ...c.tcp_ports.map(tcpRouteId)];
    throw new NotFoundError(`this component has no route ${routeId} (it has: ${ids.join(', ') || 'none'})`, { field: 'route' });
  }

  /** The route's TLS as the PATCH takes it: a new key, or none (the stored key, of `keptFrom`'s host when the route moved). */
  private static tls(tls: CertificateInput | null, keptFrom?: string) {
    if (!tls) return undefined;
    if (!tls.keep_key) return { certificate_pem: tls.certificate_pem, private_key_pem: tls.private_key_pem! };
    return { certificate_pem: tls.certificate_pem, ...(keptFrom ? { key_from_host: keptFrom } : {}) };
  }

  /** Adds a route; the same host + path (or listen port) already here is a 409 (change that one instead). */
  add(actor: string, ref: ComponentRef, input: RouteInput): Promise<ComponentRoutesView> {
    return this.change(actor, ref, (c) => {
      if (input.kind === 'http') {
        if (c.routes.some((r) => r.host === input.host && samePrefix(r.path_prefix, input.path_prefix)))
          throw new ConflictError(`this component already has a route for ${input.host}${input.path_prefix}: change that one`, { field: 'host' });
        const route = { ...pick(input), ...(input.tls ? { tls: ComponentRoutesService.tls(input.tls) } : {}) };
        return { body: { routes: [...c.routes.map(keptHttp), route] }, target: { list: 'routes', index: c.routes.length } };
      }
      if (c.tcp_ports.some((t) => t.listen_port === input.listen_port))
        throw new ConflictError(`this component already has TCP port ${input.listen_port}: change that one`, { field: 'listen_port' });
      return {
        body: { tcp_ports: [...c.tcp_ports, { listen_port: input.listen_port, port: input.port }] },
        target: { list: 'tcp_ports', index: c.tcp_ports.length },
      };
    });
  }

  /** Replaces a route (its kind stays); with `tls.keep_key` the stored key stays, even when the host changes. */
  replace(actor: string, ref: ComponentRef, routeId: string, input: RouteInput): Promise<ComponentRoutesView> {
    return this.change(actor, ref, (c) => {
      const at = ComponentRoutesService.find(c, routeId);
      if (at.list === 'routes') {
        if (input.kind !== 'http') throw invalidArgument('kind', `route ${routeId} is an HTTP route: remove it and add a TCP port instead`);
        const old = c.routes[at.index];
        if (c.routes.some((r, i) => i !== at.index && r.host === input.host && samePrefix(r.path_prefix, input.path_prefix)))
          throw new ConflictError(`this component already has another route for ${input.host}${input.path_prefix}`, { field: 'host' });
        if (input.tls?.keep_key && !old.tls)
          throw invalidArgument('tls.private_key_pem', `route ${routeId} has no certificate yet, so no stored key: give the key`);
        const route = { ...pick(input), ...(input.tls ? { tls: ComponentRoutesService.tls(input.tls, old.host !== input.host ? old.host : undefined) } : {}) };
        return { body: { routes: c.routes.map((r, i) => (i === at.index ? route : keptHttp(r))) }, target: at };
      }
      if (input.kind !== 'tcp') throw invalidArgument('kind', `route ${routeId} is a TCP port: remove it and add an HTTP route instead`);
      if (c.tcp_ports.some((t, i) => i !== at.index && t.listen_port === input.listen_port))
        throw new ConflictError(`this component already has TCP port ${input.listen_port}`, { field: 'listen_port' });
      return { body: { tcp_ports: c.tcp_ports.map((t, i) => (i === at.index ? { listen_port: input.listen_port, port: input.port } : t)) }, target: at };
    });
  }

  remove(actor: string, ref: ComponentRef, routeId: string): Promise<ComponentRoutesView> {
    return this.change(actor, ref, (c) => {
      const at = ComponentRoutesService.find(c, routeId);
      return at.list === 'routes'
        ? { body: { routes: c.routes.filter((_, i) => i !== at.index).map(keptHttp) } }
        : { body: { tcp_ports: c.tcp_ports.filter((_, i) => i !== at.index) } };
    });
  }

  /** Uploads (or renews, keeping the stored key) an HTTP route's certificate; null takes it off (HTTPS then has the default one). */
  setCertificate(actor: string, ref: ComponentRef, routeId: string, tls: CertificateInput | null): Promise<ComponentRoutesView> {
    return this.change(actor, ref, (c) => {
      const at = ComponentRoutesService.find(c, routeId);
      if (at.list !== 'routes') throw invalidArgument('route', `${routeId} is a TCP port: certificates are for HTTP routes`);
      const old = c.routes[at.index];
      if (tls?.keep_key && !old.tls) throw invalidArgument('private_key_pem', `route ${routeId} has no certificate yet, so no stored key: give the key`);
      const { tls: _, ...plain } = keptHttp(old);
      const route = tls ? { ...plain, tls: ComponentRoutesService.tls(tls) } : plain;
      return { body: { routes: c.routes.map((r, i) => (i === at.index ? route : keptHttp(r))) }, target: { ...at, tlsOnly: true } };
    });
  }
}

const pick = (r: Extract<RouteInput, { kind: 'http' }>) => ({ host: r.host, path_prefix: r.path_prefix, port: r.port, https_redirect: r.https_redirect });

/** "/api/" and "/api" are one prefix (the data center's rule). */
const samePrefix = (a: string, b: string) => (a.replace(/\/+$/, '') || '/') === (b.replace(/\/+$/, '') || '/');

/**
 * A data center's refusal of a PATCH as the form's: a field of the caller's route loses its
 * `routes[i].` prefix (the host + path claim itself, `routes[i]`, is the host field's); a field
 * of another route is said in the message (naming that route) with no field of the form.
 */
export function formError(err: DataCenterError, body: Edit['body'], target: Edit['target']): DataCenterError {
  const e = err.error;
  const m = e.field?.match(/^(routes|tcp_ports)\[(\d+)\](?:\.(.+))?$/);
  if (!m) return err;
  const [, list, index, rest] = m;
  const message = e.message.startsWith(`${e.field}: `) ? e.message.slice(e.field!.length + 2) : e.message;
  if (target && target.list === list && target.index === Number(index)) {
    let field = rest ?? (list === 'routes' ? 'host' : 'listen_port');
    if (field === 'tls.key_from_host') field = 'tls.private_key_pem';
    if (target.tlsOnly) field = field.startsWith('tls.') ? field.slice(4) : field === 'host' ? 'route' : field;
    return new DataCenterError(err.status, { error: { code: e.code, message, field } });
  }
  const entry = (body[list as 'routes' | 'tcp_ports'] ?? [])[Number(index)] as { host?: string; path_prefix?: string; listen_port?: number } | undefined;
  const name = entry
    ? list === 'routes'
      ? httpRouteId(entry as { host: string; path_prefix: string })
      : tcpRouteId(entry as { listen_port: number })
    : e.field;
  return new DataCenterError(err.status, { error: { code: e.code, message: `route ${name}: ${message}` } });
}
