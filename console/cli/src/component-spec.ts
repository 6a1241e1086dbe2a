import { CliError, EXIT } from './exit-codes';

type Json = Record<string, unknown>;

export interface RouteView {
  host: string;
  path_prefix: string;
  port: number;
  https_redirect: boolean;
  tls: { certificate_pem: string } | null;
}

export interface RouteSpec {
  host: string;
  path_prefix: string;
  port: number;
  https_redirect: boolean;
  tls?: { certificate_pem: string; private_key_pem: string };
}

/**
 * A route as the data center shows it, back into what it takes: a TLS route needs its private
 * key again (the data center never returns it), given in `keys` by host; without it the
 * change is refused here, naming the route, so nothing is half-changed.
 */
export function routeSpec(r: RouteView, keys: Record<string, string> = {}): RouteSpec {
  const base = { host: r.host, path_prefix: r.path_prefix, port: r.port, https_redirect: r.https_redirect };
  if (!r.tls) return base;
  const key = keys[r.host];
  if (!key)
    throw new CliError(
      `route ${r.host}${r.path_prefix} has a TLS certificate and the data center never returns its private key: a change of this component's spec must send it again (wharf routes add ... --cert FILE --key FILE for that host)`,
      EXIT.usage,
    );
  return { ...base, tls: { certificate_pem: r.tls.certificate_pem, private_key_pem: key } };
}

/** The spec a PUT takes, from the component's view, with some fields replaced. */
export function specOf(c: Json & { routes: RouteView[]; probe: unknown }, change: Json & { routes?: RouteSpec[] }, keys: Record<string, string> = {}): Json {
  return {
    source: c.source,
    ports: c.ports,
    env: c.env,
    cpu_millis: c.cpu_millis,
    memory_mib: c.memory_mib,
    replicas: c.replicas,
    ...(c.probe ? { probe: c.probe } : {}),
    volumes: c.volumes,
    depends_on: c.depends_on,
    tcp_ports: c.tcp_ports,
    ...change,
    routes: change.routes ?? c.routes.map((r) => routeSpec(r, keys)),
  };
}

/** HOST or HOST/PATH (the path prefix defaults to "/"). */
export function parseRouteTarget(arg: string): { host: string; path_prefix: string } {
  const i = arg.indexOf('/');
  const host = (i < 0 ? arg : arg.slice(0, i)).toLowerCase();
  const path = i < 0 ? '/' : arg.slice(i);
  if (!/^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(host) || host.length > 253)
    throw new CliError(`"${arg}": expected HOST or HOST/PATH, e.g. api.example.com/v1`, EXIT.usage);
  return { host, path_prefix: path };
}
