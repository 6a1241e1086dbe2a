import { readFileSync } from 'node:fs';
import { backendFor } from './backend';
import { getComponent, type Common } from './commands';
import { parseRouteTarget, routeSpec, specOf, type RouteSpec } from './component-spec';
import { requireProfile } from './config-store';
import { CliError, EXIT } from './exit-codes';
import { print, table } from './output';
import { componentRef } from './refs';

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`--${what} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, EXIT.usage);
  }
}

/** wharf routes COMPONENT: its HTTP routes (host + path -> port), TLS or not. */
export async function routesList(arg: string, o: Common): Promise<void> {
  const b = backendFor(requireProfile(), o.dc);
  const c = await getComponent(b, componentRef(arg, b.profile, o.tenant));
  const rows = c.routes.map((r) => ({ ...r, route: `${r.host}${r.path_prefix}`, tls: r.tls ? 'certificate' : '-', port: `:${r.port}` }));
  print(o.json, { items: c.routes.map((r) => ({ ...r, tls: r.tls ? { certificate_pem: r.tls.certificate_pem } : null })) }, () =>
    table(rows, ['route', 'port', 'tls', 'https_redirect']),
  );
}

/**
 * wharf routes add COMPONENT HOST[/PATH] --port N [--cert FILE --key FILE] [--https-redirect]:
 * the route (replacing the same host and path) with the others kept; lb-manager follows at once.
 */
export async function routeAdd(
  arg: string,
  target: string,
  o: Common & { port?: string; cert?: string; key?: string; httpsRedirect?: boolean },
): Promise<void> {
  const t = parseRouteTarget(target);
  if (!o.port || !/^\d{1,5}$/.test(o.port) || Number(o.port) < 1 || Number(o.port) > 65535)
    throw new CliError('--port: the container port the route goes to (1-65535)', EXIT.usage);
  if (!!o.cert !== !!o.key) throw new CliError('--cert and --key go together (the certificate chain and its private key, PEM)', EXIT.usage);
  const b = backendFor(requireProfile(), o.dc);
  const ref = componentRef(arg, b.profile, o.tenant);
  const c = await getComponent(b, ref);
  const key = o.key ? readPem(o.key, 'key') : undefined;
  const route: RouteSpec = {
    ...t,
    port: Number(o.port),
    https_redirect: !!o.httpsRedirect,
    ...(o.cert ? { tls: { certificate_pem: readPem(o.cert, 'cert'), private_key_pem: key! } } : {}),
  };
  const same = (r: { host: string; path_prefix: string }) => r.host === route.host && r.path_prefix === route.path_prefix;
  // The key given is the key of this host for its other TLS routes too.
  const keys = key ? { [route.host]: key } : {};
  const routes = [...c.routes.filter((r) => !same(r)).map((r) => routeSpec(r, keys)), route];
  await b.dc('PUT', `/tenants/${ref.tenant}/components/${ref.id}`, specOf(c, { routes }), { 'if-match': `"${c.version}"` });
  process.stdout.write(`route ${route.host}${route.path_prefix} -> ${ref.tenant}/${ref.app}/${ref.name}:${route.port}${route.tls ? ' (TLS)' : ''}\n`);
}

export async function routeRemove(arg: string, target: string, o: Common): Promise<void> {
  const t = parseRouteTarget(target);
  const b = backendFor(requireProfile(), o.dc);
  const ref = componentRef(arg, b.profile, o.tenant);
  const c = await getComponent(b, ref);
  const kept = c.routes.filter((r) => !(r.host === t.host && r.path_prefix === t.path_prefix));
  if (kept.length === c.routes.length)
    throw new CliError(
      `${ref.tenant}/${ref.app}/${ref.name} has no route ${t.host}${t.path_prefix} (it has: ${c.routes.map((r) => `${r.host}${r.path_prefix}`).join(', ') || 'none'})`,
      EXIT.notFound,
    );
  await b.dc('PUT', `/tenants/${ref.tenant}/components/${ref.id}`, specOf(c, { routes: kept.map((r) => routeSpec(r)) }), { 'if-match': `"${c.version}"` });
  process.stdout.write(`route ${t.host}${t.path_prefix} removed\n`);
}
