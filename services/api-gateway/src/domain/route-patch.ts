import type { eventsV1 } from '@wharf/contracts';
import { invalidArgument } from '@wharf/errors';
import { routeKeyContext } from './component-spec';
import type { ComponentPatchInput, RouteInput, TcpPortInput } from './schemas';
import type { SecretSealer } from './secret-sealer';

/** The routes and TCP ports a PATCH leaves the component with, every private key in clear (to check, then seal again). */
export interface PatchedRoutes {
  routes: RouteInput[];
  tcp_ports: TcpPortInput[];
  /** Route index -> the host whose stored key it kept (a failed certificate check then names the certificate, not a key the caller never sent). */
  keptKeys: Map<number, string>;
}

/**
 * Applies a PATCH's routes and TCP ports to a stored spec. A field left out keeps the stored
 * one; a TLS route without private_key_pem keeps the key the component stores for
 * key_from_host (default: its own host), preferring the route of the same path. Keys are opened
 * here only to be checked against their certificate and sealed again for their (maybe new)
 * host: they never leave the process in clear.
 */
export function applyRoutePatch(componentId: string, stored: eventsV1.ComponentSpec, patch: ComponentPatchInput, sealer: SecretSealer): PatchedRoutes {
  const open = (route: eventsV1.HttpRoute, field: string): string => {
    try {
      return sealer.open(route.tls!.sealedPrivateKey, routeKeyContext(componentId, route.host));
    } catch {
      throw invalidArgument(field, `the key stored for ${route.host} cannot be opened (sealed with another secret key?): give the private key again`);
    }
  };
  const keptKeys = new Map<number, string>();
  const routes: RouteInput[] = patch.routes
    ? patch.routes.map((r, i) => {
        const { tls, ...rest } = r;
        if (!tls) return rest;
        if (tls.private_key_pem !== undefined) return { ...rest, tls: { certificate_pem: tls.certificate_pem, private_key_pem: tls.private_key_pem } };
        const from = tls.key_from_host ?? r.host;
        const withKey = stored.routes.filter((s) => s.tls && s.host === from);
        const source = withKey.find((s) => s.pathPrefix === r.path_prefix) ?? withKey[0];
        const field = `routes[${i}].tls.private_key_pem`;
        if (!source)
          throw invalidArgument(
            tls.key_from_host ? `routes[${i}].tls.key_from_host` : field,
            `no private key is stored for ${from} in this component: give private_key_pem${tls.key_from_host ? '' : ' (or key_from_host: the host whose key to keep)'}`,
          );
        keptKeys.set(i, from);
        return { ...rest, tls: { certificate_pem: tls.certificate_pem, private_key_pem: open(source, field) } };
      })
    : stored.routes.map((s, i) => {
        const rest = { host: s.host, path_prefix: s.pathPrefix, port: s.port, https_redirect: s.httpsRedirect };
        if (!s.tls) return rest;
        keptKeys.set(i, s.host);
        return { ...rest, tls: { certificate_pem: s.tls.certificatePem, private_key_pem: open(s, `routes[${i}].tls.private_key_pem`) } };
      });
  const tcp_ports = patch.tcp_ports ?? stored.tcpPorts.map((t) => ({ listen_port: t.listenPort, port: t.port }));
  return { routes, tcp_ports, keptKeys };
}
