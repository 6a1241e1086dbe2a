import { createHash } from 'node:crypto';
import type { GatewayState } from './gateway-state';

/**
 * The Lua routing table of the http instance, as JSON text (pure, deterministic: sorted, so
 * every lb-manager renders the same bytes for the same state). The Lua side (lua/wharf/*.lua)
 * keeps it in a lua_shared_dict; each worker decodes it once per version.
 *
 *   version       hash of the rest: lb-manager compares it with what nginx holds
 *   https_port    for redirects
 *   hosts         host (exact, or "*.<domain>") -> rules, longest prefix first
 *   upstreams     "<component id>:<port>" -> labels and ready peers [[address, port], ...]
 *   certificates  host -> PEM certificate chain and key
 */
export interface RoutingTable {
  json: string;
  version: string;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function renderRoutingTable(state: Pick<GatewayState, 'rules' | 'upstreams' | 'certificates'>, httpsPort: number): RoutingTable {
  const hosts: Record<string, { prefix: string; upstream: string; redirect: boolean }[]> = {};
  const rules = [...state.rules].sort((a, b) => byString(a.host, b.host) || b.pathPrefix.length - a.pathPrefix.length || byString(a.pathPrefix, b.pathPrefix));
  for (const r of rules) (hosts[r.host] ??= []).push({ prefix: r.pathPrefix, upstream: r.upstream, redirect: r.httpsRedirect });
  const upstreams: Record<string, { tenant: string; app: string; component: string; peers: [string, number][] }> = {};
  for (const u of [...state.upstreams].sort((a, b) => byString(a.key, b.key))) {
    upstreams[u.key] = {
      tenant: u.labels.tenant,
      app: u.labels.app,
      component: u.labels.component,
      peers: u.peers.map((p): [string, number] => [p.address, p.port]).sort((a, b) => byString(a[0], b[0]) || a[1] - b[1]),
    };
  }
  const certificates: Record<string, { cert: string; key: string }> = {};
  for (const c of [...state.certificates].sort((a, b) => byString(a.host, b.host))) certificates[c.host] = { cert: c.certificatePem, key: c.privateKeyPem };
  const body = JSON.stringify({ https_port: httpsPort, hosts, upstreams, certificates });
  const version = createHash('sha256').update(body).digest('hex').slice(0, 32);
  return { json: `{"version":${JSON.stringify(version)},${body.slice(1)}`, version };
}
