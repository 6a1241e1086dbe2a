import {
  defaultHosts,
  hostProblem,
  listenPortProblem,
  normalizePathPrefix,
  pathPrefixProblem,
  underDomain,
  type ComponentNames,
  type RouteProblem,
} from './names';

/**
 * What a component claims on the gateway: a host + path prefix (HTTP) or a listen port (TCP).
 * A claim is owned by one component at a time; two claims with the same key conflict.
 */
export type RouteClaim =
  | { kind: 'http'; host: string; pathPrefix: string; port: number; origin: 'default' | 'route'; httpsRedirect: boolean }
  | { kind: 'tcp'; listenPort: number; port: number };

/** The key two conflicting claims share: `http <host><prefix>` or `tcp <port>`. */
export function claimKey(claim: RouteClaim): string {
  return claim.kind === 'http' ? `http ${claim.host}${claim.pathPrefix}` : `tcp ${claim.listenPort}`;
}

/** Says a claim as a user would: `api.example.com/v1` or `TCP port 15000`. */
export function describeClaim(claim: RouteClaim): string {
  return claim.kind === 'http' ? `${claim.host}${claim.pathPrefix}` : `TCP port ${claim.listenPort}`;
}

/** The parts of a ComponentSpec (wharf.events.v1) that make routes; the generated message fits it. */
export interface RoutedSpec {
  ports: readonly { port: number; protocol: string; public: boolean }[];
  routes: readonly { host: string; pathPrefix: string; port: number; httpsRedirect?: boolean }[];
  tcpPorts: readonly { listenPort: number; port: number }[];
}

export interface ClaimOptions {
  /** The data center's domain: default hosts are made under it, and user routes may not squat in it. */
  domain: string;
  /** The gateway's own listen ports, which no TCP route may take. */
  reservedPorts?: readonly number[];
}

/**
 * The claims a component's spec makes, and what is wrong with it. Each problem names the field
 * (`routes[1].host`, `tcp_ports[0].listen_port`, as api-gateway's request body spells it).
 * A claim with a problem is left out, the others stand.
 */
export function claimsOf(names: ComponentNames, spec: RoutedSpec, options: ClaimOptions): { claims: RouteClaim[]; problems: RouteProblem[] } {
  const claims: RouteClaim[] = [];
  const problems: RouteProblem[] = [];
  const protocolOf = new Map(spec.ports.map((p) => [p.port, p.protocol || 'http']));
  const seen = new Set<string>();
  const own = defaultHosts(names, spec.ports, options.domain);
  const ownHosts = new Set(own.map((h) => h.host));
  for (const d of own) {
    const claim: RouteClaim = { kind: 'http', host: d.host, pathPrefix: '/', port: d.port, origin: 'default', httpsRedirect: false };
    seen.add(claimKey(claim));
    claims.push(claim);
  }
  spec.routes.forEach((r, i) => {
    const field = `routes[${i}]`;
    const hostWhy = hostProblem(r.host);
    if (hostWhy) return problems.push({ field: `${field}.host`, reason: hostWhy });
    const prefix = r.pathPrefix === '' ? '/' : r.pathPrefix;
    const pathWhy = pathPrefixProblem(prefix);
    if (pathWhy) return problems.push({ field: `${field}.path_prefix`, reason: pathWhy });
    if (protocolOf.get(r.port) !== 'http') return problems.push({ field: `${field}.port`, reason: `port ${r.port} is not one of the component's http ports` });
    if (underDomain(r.host, options.domain) && !ownHosts.has(r.host)) {
      return problems.push({
        field: `${field}.host`,
        reason: `${r.host} is in the data center's domain ${options.domain}, where each component has only its own default hosts`,
      });
    }
    const claim: RouteClaim = {
      kind: 'http',
      host: r.host,
      pathPrefix: normalizePathPrefix(prefix),
      port: r.port,
      origin: 'route',
      httpsRedirect: !!r.httpsRedirect,
    };
    const key = claimKey(claim);
    if (seen.has(key)) return problems.push({ field: `${field}`, reason: `${describeClaim(claim)} is given twice in this component` });
    seen.add(key);
    claims.push(claim);
  });
  spec.tcpPorts.forEach((t, i) => {
    const field = `tcp_ports[${i}]`;
    const portWhy = listenPortProblem(t.listenPort, options.reservedPorts);
    if (portWhy) return problems.push({ field: `${field}.listen_port`, reason: portWhy });
    if (protocolOf.get(t.port) !== 'tcp') return problems.push({ field: `${field}.port`, reason: `port ${t.port} is not one of the component's tcp ports` });
    const claim: RouteClaim = { kind: 'tcp', listenPort: t.listenPort, port: t.port };
    const key = claimKey(claim);
    if (seen.has(key)) return problems.push({ field: `${field}.listen_port`, reason: `${describeClaim(claim)} is given twice in this component` });
    seen.add(key);
    claims.push(claim);
  });
  return { claims, problems };
}
