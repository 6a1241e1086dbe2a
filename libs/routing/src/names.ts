/**
 * What a route may say, checked the same way where a route is written (api-gateway) and where it
 * is served (lb-manager). Nothing a user typed reaches nginx without passing these: the host and
 * the path go into the gateway's routing table, so they are kept to the characters DNS and URL
 * paths allow (no quotes, spaces, braces or semicolons that could end a config token).
 */

const LABEL = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';
const HOST = new RegExp(`^(\\*\\.)?(${LABEL}\\.)*${LABEL}$`);
const DNS_LABEL = new RegExp(`^${LABEL}$`);
// RFC 3986 path characters without "%" (prefixes match the decoded path nginx sees).
const PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/;

/** A problem with one field of a route, said so a user can fix it. */
export interface RouteProblem {
  field: string;
  reason: string;
}

/** Why `host` cannot be a route's host, or undefined when it can. Lowercase DNS names, optionally "*." for one label. */
export function hostProblem(host: string): string | undefined {
  if (host.length === 0) return 'must not be empty';
  if (host.length > 253) return `must be at most 253 characters (got ${host.length})`;
  if (!HOST.test(host)) return 'must be a lowercase DNS host name (a-z, 0-9, "-", labels of 1-63 separated by "."), optionally starting with "*."';
  return undefined;
}

/** Why `prefix` cannot be a route's path prefix, or undefined when it can. */
export function pathPrefixProblem(prefix: string): string | undefined {
  if (!prefix.startsWith('/')) return 'must start with "/"';
  if (prefix.length > 1024) return `must be at most 1024 characters (got ${prefix.length})`;
  if (!PATH.test(prefix)) return 'may contain only A-Z a-z 0-9 and - . _ ~ ! $ & \' ( ) * + , ; = : @ / (no spaces, quotes, "%" or braces)';
  if (prefix.includes('//')) return 'must not contain "//" (nginx merges slashes before matching)';
  if (/(^|\/)\.\.?(\/|$)/.test(prefix)) return 'must not contain "." or ".." segments (nginx resolves them before matching)';
  return undefined;
}

/** "/api/" and "/api" are one prefix: matching is at "/" boundaries. "/" stays "/". */
export function normalizePathPrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** Whether `path` (decoded, as nginx's $uri) falls under `prefix` (normalized): equal, or continuing with "/". */
export function pathMatches(prefix: string, path: string): boolean {
  if (prefix === '/') return true;
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47);
}

export function isDnsLabel(name: string): boolean {
  return DNS_LABEL.test(name);
}

/** Why `port` cannot be a TCP listen port of the gateway, or undefined. `reserved` are the gateway's own ports. */
export function listenPortProblem(port: number, reserved: readonly number[] = []): string | undefined {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `must be a TCP port 1-65535 (got ${port})`;
  if (reserved.includes(port)) return `port ${port} is the gateway's own`;
  return undefined;
}

/** What names a component's default hosts are made of. */
export interface ComponentNames {
  tenant: string;
  app: string;
  component: string;
}

/**
 * The default hosts of a component's public http ports: the first one is
 * `<component>.<app>.<tenant>.<domain>`, and every public http port is also
 * `<component>-<port>.<app>.<tenant>.<domain>` (so a second port has an address too).
 * Names that are not DNS labels get no default host (api-gateway only admits labels).
 */
export function defaultHosts(
  names: ComponentNames,
  ports: readonly { port: number; protocol: string; public: boolean }[],
  domain: string,
): { host: string; port: number }[] {
  if (![names.tenant, names.app, names.component].every(isDnsLabel)) return [];
  const suffix = `${names.app}.${names.tenant}.${domain}`;
  const publicHttp = ports.filter((p) => p.public && (p.protocol || 'http') === 'http');
  const hosts: { host: string; port: number }[] = [];
  publicHttp.forEach((p, i) => {
    if (i === 0) hosts.push({ host: `${names.component}.${suffix}`, port: p.port });
    const perPort = `${names.component}-${p.port}`;
    if (perPort.length <= 63) hosts.push({ host: `${perPort}.${suffix}`, port: p.port });
  });
  return hosts.filter((h) => hostProblem(h.host) === undefined);
}

/** Whether `host` is inside the data center's own namespace (the domain or a name under it). */
export function underDomain(host: string, domain: string): boolean {
  const bare = host.startsWith('*.') ? host.slice(2) : host;
  return bare === domain || bare.endsWith(`.${domain}`);
}
