import { ConflictError, invalidArgument } from '@wharf/errors';
import type { Claim, ClaimWrite, FeedPosition } from '@wharf/event-store';
import { checkCertificate, claimKey, claimsOf, describeClaim, normalizePathPrefix, routeConflicts, type OwnedClaims, type RouteClaim } from '@wharf/routing';
import type { Catalog, ComponentView } from './catalog';
import type { RouteInput, TcpPortInput } from './schemas';

/** What the API needs to know of the gateway to check routes: the data center's domain (lb-manager's WHARF_LB_DOMAIN). */
export interface RouteRules {
  domain: string;
}

/** The parts of a spec (as a request body gives them, keys in clear) that make routes. */
export interface RoutedInput {
  ports: readonly { port: number; protocol: string; public: boolean }[];
  routes: readonly RouteInput[];
  tcp_ports: readonly TcpPortInput[];
}

/** The candidate of a create or an update: who it is and the spec it asks for. */
export interface RouteCandidate {
  id: string;
  tenantId: string;
  appId: string;
  name: string;
  spec: RoutedInput;
  /** Route index -> the host whose stored key it keeps (PATCH): a certificate that does not fit that key is the certificate's fault. */
  keptKeys?: ReadonlyMap<number, string>;
}

function namesOf(catalog: Catalog, c: { tenantId: string; appId: string; name: string }) {
  return { tenant: catalog.identity.tenants.get(c.tenantId)?.name ?? c.tenantId, app: catalog.apps.get(c.appId)?.name ?? c.appId, component: c.name };
}

/** The request body's routes in the shape @wharf/routing reads (the generated ComponentSpec's). */
function routedSpec(s: RoutedInput) {
  return {
    ports: s.ports,
    routes: s.routes.map((r) => ({ host: r.host, pathPrefix: r.path_prefix, port: r.port, httpsRedirect: r.https_redirect })),
    tcpPorts: s.tcp_ports.map((t) => ({ listenPort: t.listen_port, port: t.port })),
  };
}

/** A stored component's claims, made once per change of it (the catalog drops the cache on every event it folds for it). */
function storedClaims(catalog: Catalog, c: ComponentView, rules: RouteRules): RouteClaim[] {
  const cache = (c.cache ??= {});
  return (cache.claims ??= claimsOf(namesOf(catalog, c), c.spec, { domain: rules.domain }).claims) as RouteClaim[];
}

/** Every other live component's claims: what the gateway serves now or will once it has replicas. */
function ownedElsewhere(catalog: Catalog, exceptId: string, rules: RouteRules): OwnedClaims[] {
  const owned: OwnedClaims[] = [];
  for (const c of catalog.components.values()) {
    if (c.deleted || c.id === exceptId || catalog.apps.get(c.appId)?.deleted) continue;
    const claims = storedClaims(catalog, c, rules);
    if (!claims.length) continue;
    const names = namesOf(catalog, c);
    owned.push({ owner: { componentId: c.id, name: `${names.tenant}/${names.app}/${names.component}` }, claims });
  }
  return owned;
}

/**
 * The gateway rules a spec must meet before its event is written, the same @wharf/routing rules
 * lb-manager serves by: each route and TCP port well formed and pointing at a port of the right
 * protocol, no host squatting in the data center's domain, a certificate that fits its host and is
 * valid now (400 naming the field); and no host + path prefix or TCP port another live component
 * holds (409 conflict, reason route_owned, naming the owner when it is in the caller's tenant; another
 * tenant's components are not named). An update keeps its own claims.
 * Returns the names of the candidate's claims (routeClaimName) to take with its event: the catalog
 * alone cannot stop two racing creates, the claims in etcd do (planRouteClaims).
 */
export function assertRoutesAllowed(catalog: Catalog, candidate: RouteCandidate, rules: RouteRules, nowMs: number): string[] {
  const { claims, problems } = claimsOf(namesOf(catalog, candidate), routedSpec(candidate.spec), { domain: rules.domain });
  if (problems.length) throw invalidArgument(problems[0].field, problems[0].reason);
  candidate.spec.routes.forEach((r, i) => {
    if (!r.tls) return;
    const check = checkCertificate({ certificatePem: r.tls.certificate_pem, privateKeyPem: r.tls.private_key_pem, host: r.host, nowMs });
    if (check.ok) return;
    const keptFrom = candidate.keptKeys?.get(i);
    if (keptFrom === undefined) throw invalidArgument(`routes[${i}].tls.${check.part === 'private_key' ? 'private_key_pem' : 'certificate_pem'}`, check.reason);
    const reason = check.part === 'private_key' ? `the private key stored for ${keptFrom} does not belong to this certificate` : check.reason;
    throw invalidArgument(`routes[${i}].tls.certificate_pem`, reason);
  });
  const conflicts = routeConflicts({ owner: { componentId: candidate.id, name: candidate.name }, claims }, ownedElsewhere(catalog, candidate.id, rules));
  if (!conflicts.length) return claims.map(routeClaimName);
  const [first] = conflicts;
  const owner =
    catalog.components.get(first.owner.componentId)?.tenantId === candidate.tenantId
      ? first.message
      : `${describeClaim(first.claim)} is already routed to a component of another tenant`;
  const more = conflicts.length > 1 ? ` (and ${conflicts.length - 1} more)` : '';
  throw new ConflictError(`${owner}${more}`, { reason: 'route_owned', field: conflictField(candidate.spec, first.claim) ?? first.field });
}

/** The request body's field a conflicting claim came from: `routes[i]` (its host + path prefix) or `tcp_ports[i].listen_port`. */
function conflictField(spec: RoutedInput, claim: RouteClaim): string | undefined {
  if (claim.kind === 'tcp') {
    const i = spec.tcp_ports.findIndex((t) => t.listen_port === claim.listenPort);
    return i < 0 ? undefined : `tcp_ports[${i}].listen_port`;
  }
  const i = spec.routes.findIndex((r) => r.host === claim.host && normalizePathPrefix(r.path_prefix === '' ? '/' : r.path_prefix) === claim.pathPrefix);
  return i < 0 ? undefined : `routes[${i}]`;
}

/** The event store claim of one host + path or TCP port. */
export function routeClaimName(claim: RouteClaim): string {
  return `route/${claimKey(claim)}`;
}

/**
 * What to write with the candidate's event, given the claims etcd holds and the catalog position
 * its route check saw (`seenAt`): every claim taken at the revision it was read at (0: absent).
 * A claim held by another component at a revision the check had not seen means the catalog is
 * behind a racing writer: wait for that position and check again (`behind`). One it had seen passed
 * the check, so its holder no longer routes it (updated or deleted): it is taken over.
 */
export function planRouteClaims(
  holderId: string,
  names: readonly string[],
  held: ReadonlyMap<string, Claim>,
  seenAt: FeedPosition,
): { claims: ClaimWrite[] } | { behind: FeedPosition } {
  let behind = 0n;
  const claims = names.map((name): ClaimWrite => {
    const h = held.get(name);
    if (h && h.holder !== holderId && BigInt(h.revision) > BigInt(seenAt) && BigInt(h.revision) > behind) behind = BigInt(h.revision);
    return { name, holder: holderId, expectedRevision: h ? h.revision : 0 };
  });
  return behind > 0n ? { behind: String(behind) } : { claims };
}
