/** A component's gateway routes as the console's API gives them (routes.service.ts on the server). */
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

export interface RoutesView {
  version: number;
  ports: { port: number; protocol: string }[];
  routes: RouteView[];
}

/** What the certificate fields hold. The key is only ever typed or loaded here: the console never sends one back. */
export interface CertificateForm {
  certificate_pem: string;
  private_key_pem: string;
  /** Keep the key the data center stores for this route (offered only when it has one). */
  keep_key: boolean;
}

export interface RouteForm extends CertificateForm {
  kind: 'http' | 'tcp';
  host: string;
  path_prefix: string;
  port: string;
  https_redirect: boolean;
  listen_port: string;
  tls: boolean;
}

export const emptyCertificate = (hasStoredKey: boolean): CertificateForm => ({ certificate_pem: '', private_key_pem: '', keep_key: hasStoredKey });

/** A new route's form: HTTP to the component's first HTTP port (or TCP to its first TCP port). */
export function newRouteForm(ports: RoutesView['ports'], kind: 'http' | 'tcp' = 'http'): RouteForm {
  const first = ports.find((p) => p.protocol === kind)?.port;
  return { kind, host: '', path_prefix: '/', port: first ? String(first) : '', https_redirect: false, listen_port: '', tls: false, ...emptyCertificate(false) };
}

/** An existing route's form: its certificate shown, its key kept unless the user gives another. */
export function editRouteForm(r: RouteView): RouteForm {
  if (r.kind === 'tcp') return { ...newRouteForm([], 'tcp'), listen_port: String(r.listen_port), port: String(r.port) };
  return {
    kind: 'http',
    host: r.host,
    path_prefix: r.path_prefix,
    port: String(r.port),
    https_redirect: r.https_redirect,
    listen_port: '',
    tls: r.tls !== null,
    certificate_pem: r.tls?.certificate_pem ?? '',
    private_key_pem: '',
    keep_key: r.tls !== null,
  };
}

export type FormErrors = Record<string, string>;

const portOf = (value: string, field: string, errors: FormErrors): number => {
  if (!/^\d{1,5}$/.test(value.trim()) || Number(value) < 1 || Number(value) > 65535) errors[field] = 'must be a port number 1-65535';
  return Number(value);
};

export function certificateBody(f: CertificateForm) {
  return f.keep_key ? { certificate_pem: f.certificate_pem, keep_key: true } : { certificate_pem: f.certificate_pem, private_key_pem: f.private_key_pem };
}

/** The request body of a route form, or what is wrong before anything is sent (ports must be numbers; the server checks the rest). */
export function routeBody(f: RouteForm): { body: Record<string, unknown> } | { errors: FormErrors } {
  const errors: FormErrors = {};
  const port = portOf(f.port, 'port', errors);
  if (f.kind === 'tcp') {
    const listen = portOf(f.listen_port, 'listen_port', errors);
    return Object.keys(errors).length ? { errors } : { body: { kind: 'tcp', listen_port: listen, port } };
  }
  if (Object.keys(errors).length) return { errors };
  return {
    body: {
      kind: 'http',
      host: f.host.trim(),
      path_prefix: f.path_prefix.trim() || '/',
      port,
      https_redirect: f.https_redirect,
      tls: f.tls ? certificateBody(f) : null,
    },
  };
}

/** Which field of the route form an API error is about (the console names them as the form does); `form` for the rest. */
export function routeFieldOf(field: string | undefined): string {
  const known = ['kind', 'host', 'path_prefix', 'port', 'https_redirect', 'listen_port', 'tls.certificate_pem', 'tls.private_key_pem'];
  const f = (field ?? '').replace(/^body\./, '').replace(/^tls\.keep_key$/, 'tls.private_key_pem');
  return known.includes(f) ? f : f === 'tls' ? 'tls.certificate_pem' : 'form';
}

/** The same for the certificate form. */
export function certificateFieldOf(field: string | undefined): string {
  const f = (field ?? '').replace(/^body\./, '').replace(/^keep_key$/, 'private_key_pem');
  return ['certificate_pem', 'private_key_pem'].includes(f) ? f : 'form';
}

/** How a route reads in the list. */
export function describeRoute(r: RouteView): string {
  return r.kind === 'http' ? `${r.host}${r.path_prefix} → :${r.port}` : `TCP :${r.listen_port} → :${r.port}`;
}

export function describeCertificate(c: CertificateView | null): string {
  if (!c) return '';
  const names = c.names.length ? c.names.join(', ') : (c.subject ?? 'unreadable certificate');
  const until = c.not_after_ms !== null ? ` · until ${new Date(c.not_after_ms).toISOString().slice(0, 10)}` : '';
  return `${names}${until}`;
}

/** The component's route URL in the console's API. */
export const routesPath = (dc: string, tenant: string, component: string, route?: string) =>
  `/api/v1/dcs/${encodeURIComponent(dc)}/tenants/${encodeURIComponent(tenant)}/components/${encodeURIComponent(component)}/routes${
    route === undefined ? '' : `/${encodeURIComponent(route)}`
  }`;
