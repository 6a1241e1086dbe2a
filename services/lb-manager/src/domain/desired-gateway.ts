import { checkCertificate, claimKey, claimsOf, describeClaim, isDnsLabel, type RouteClaim } from '@wharf/routing';
import type { ReadyEndpoints } from './endpoints';
import type { ComponentLabels, GatewayState, HttpRule, Rejection, TcpRoute, TlsCertificate, Upstream } from './gateway-state';
import type { ComponentEntry, RouteCatalog } from './route-catalog';
import { reservedPorts, type GatewaySettings } from './settings';

export interface DesiredInput {
  catalog: RouteCatalog;
  endpoints: ReadonlyMap<string, ReadyEndpoints>;
  settings: GatewaySettings;
  /** Certificates are checked against this time (a certificate that expires leaves at the next sync). */
  nowMs: number;
  /** Opens a sealed private key (@wharf/secrets); throws when it cannot. */
  openSecret: (sealed: Uint8Array, context: string) => string;
}

/** The context a route's private key is sealed for (proto: RouteTls.sealed_private_key). */
export const tlsKeyContext = (componentId: string, host: string) => `${componentId}/tls/${host}`;

interface Candidate {
  entry: ComponentEntry;
  labels: ComponentLabels;
  claim: RouteClaim;
  /** 0: a default host (the data center's naming scheme outranks any user route); 1: a user's route or TCP port. */
  rank: number;
  at: bigint;
}

const ownerName = (l: ComponentLabels) => `${l.tenant}/${l.app}/${l.component}`;

/** Deterministic order of claims on one key: default hosts first, then the oldest, then the smaller component id. */
function before(a: Candidate, b: Candidate): number {
  if (a.rank !== b.rank) return a.rank - b.rank;
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.entry.id < b.entry.id ? -1 : a.entry.id > b.entry.id ? 1 : 0;
}

/**
 * What the gateway serves, from the catalog and the ready endpoints (pure). Components of
 * unknown apps or tenants are skipped; routes with a problem, claims another component owns
 * and certificates that do not check out are left out and listed in `rejections` with the reason.
 */
export function desiredGateway(input: DesiredInput): GatewayState {
  const { catalog, settings } = input;
  const rejections: Rejection[] = [];
  const byKey = new Map<string, Candidate[]>();
  const components = [...catalog.components.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const entry of components) {
    const app = catalog.apps.get(entry.appId);
    const tenant = catalog.tenants.get(entry.tenantId);
    if (!app || tenant === undefined) continue;
    const labels: ComponentLabels = {
      componentId: entry.id,
      tenant: isDnsLabel(tenant) ? tenant : '-',
      app: isDnsLabel(app.name) ? app.name : '-',
      component: isDnsLabel(entry.name) ? entry.name : '-',
    };
    const { claims, problems } = claimsOf({ tenant, app: app.name, component: entry.name }, entry.spec, {
      domain: settings.domain,
      reservedPorts: reservedPorts(settings),
    });
    for (const p of problems) rejections.push({ componentId: entry.id, what: p.field, reason: p.reason });
    for (const claim of claims) {
      const key = claimKey(claim);
      const isDefault = claim.kind === 'http' && claim.origin === 'default';
      const candidate: Candidate = {
        entry,
        labels,
        claim,
        rank: isDefault ? 0 : 1,
        at: isDefault ? entry.createdAt : (entry.claimedAt.get(key) ?? entry.createdAt),
      };
      const list = byKey.get(key);
      if (list) list.push(candidate);
      else byKey.set(key, [candidate]);
    }
  }

  const upstreams = new Map<string, Upstream>();
  const upstreamOf = (c: Candidate, port: number): Upstream => {
    const key = `${c.entry.id}:${port}`;
    let u = upstreams.get(key);
    if (!u) {
      const addresses = input.endpoints.get(c.entry.id)?.addresses ?? [];
      u = { key, labels: c.labels, peers: addresses.map((address) => ({ address, port })) };
      upstreams.set(key, u);
    }
    return u;
  };

  const rules: HttpRule[] = [];
  const tcp: TcpRoute[] = [];
  const winners: Candidate[] = [];
  for (const [, candidates] of [...byKey].sort(([a], [b]) => (a < b ? -1 : 1))) {
    candidates.sort(before);
    const [winner, ...losers] = candidates;
    winners.push(winner);
    for (const l of losers) {
      rejections.push({
        componentId: l.entry.id,
        what: describeClaim(l.claim),
        reason: `${describeClaim(l.claim)} is owned by component ${ownerName(winner.labels)} (${winner.entry.id}), which claimed it first`,
      });
    }
    const claim = winner.claim;
    if (claim.kind === 'http') {
      rules.push({ host: claim.host, pathPrefix: claim.pathPrefix, upstream: upstreamOf(winner, claim.port).key, httpsRedirect: claim.httpsRedirect });
    } else {
      tcp.push({ listenPort: claim.listenPort, upstream: upstreamOf(winner, claim.port) });
    }
  }

  return { rules, upstreams: [...upstreams.values()], tcp, certificates: certificatesOf(winners, input, rejections), rejections };
}

/**
 * One certificate per host, from the routes that won their claims: the first valid one in claim
 * order (the host's oldest route). A route's certificate that does not check out is rejected
 * with the reason; the host is then served with the data center's default certificate.
 */
function certificatesOf(winners: Candidate[], input: DesiredInput, rejections: Rejection[]): TlsCertificate[] {
  const chosen = new Map<string, TlsCertificate & { owner: Candidate }>();
  for (const w of [...winners].sort(before)) {
    if (w.claim.kind !== 'http' || w.claim.origin !== 'route') continue;
    const host = w.claim.host;
    const route = w.entry.spec.routes.find((r) => r.host === host && r.tls && r.tls.certificatePem !== '');
    if (!route?.tls) continue;
    const what = `tls ${host}`;
    const taken = chosen.get(host);
    if (taken) {
      if (taken.owner.entry.id !== w.entry.id) {
        rejections.push({
          componentId: w.entry.id,
          what,
          reason: `host ${host} is served with the certificate of component ${ownerName(taken.owner.labels)} (${taken.owner.entry.id})`,
        });
      }
      continue;
    }
    let privateKeyPem: string;
    try {
      privateKeyPem = input.openSecret(route.tls.sealedPrivateKey, tlsKeyContext(w.entry.id, host));
    } catch (err) {
      rejections.push({ componentId: w.entry.id, what, reason: `the private key cannot be opened: ${(err as Error).message}` });
      continue;
    }
    const check = checkCertificate({ certificatePem: route.tls.certificatePem, privateKeyPem, host, nowMs: input.nowMs });
    if (!check.ok) {
      rejections.push({ componentId: w.entry.id, what, reason: check.reason });
      continue;
    }
    chosen.set(host, { host, certificatePem: route.tls.certificatePem, privateKeyPem, owner: w });
  }
  return [...chosen.values()].map(({ host, certificatePem, privateKeyPem }) => ({ host, certificatePem, privateKeyPem }));
}
