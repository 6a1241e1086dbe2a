import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { invalidArgument } from '@wharf/errors';
import { validatePlacement } from '@wharf/nodes';
import type { ComponentSpecInput, RouteInput, TcpPortInput } from './schemas';
import type { SecretSealer } from './secret-sealer';

/**
 * A validated request body as the ComponentSpec the events carry. Secret values are sealed
 * here, bound to `<component id>/<name>` (a route's private key to `<component id>/tls/<host>`,
 * as lb-manager opens it), so no clear secret ever reaches the event store.
 * Checks what the schema cannot: each variable once, no dependency on itself.
 */
export function toComponentSpec(componentId: string, name: string, s: ComponentSpecInput, sealer: SecretSealer): eventsV1.ComponentSpec {
  const names = new Set<string>();
  for (const e of s.env) {
    if (names.has(e.name)) throw invalidArgument('env', `variable ${e.name} is given twice`);
    names.add(e.name);
  }
  if (s.depends_on.includes(name)) throw invalidArgument('depends_on', 'a component cannot depend on itself');
  const placement = validatePlacement(s.placement);
  const source =
    'image' in s.source
      ? { case: 'image' as const, value: create(eventsV1.ImageSourceSchema, { image: s.source.image }) }
      : {
          case: 'git' as const,
          value: create(eventsV1.GitSourceSchema, {
            url: s.source.git.url,
            branch: s.source.git.branch,
            subDir: s.source.git.sub_dir,
            dockerfile: s.source.git.dockerfile,
          }),
        };
  return create(eventsV1.ComponentSpecSchema, {
    name,
    source,
    ports: s.ports,
    env: s.env.map((e) =>
      e.secret ? { name: e.name, secret: true, encryptedValue: sealer.seal(e.value, `${componentId}/${e.name}`) } : { name: e.name, value: e.value },
    ),
    cpuMillis: s.cpu_millis,
    memoryMib: s.memory_mib,
    replicas: s.replicas,
    probe: s.probe && {
      kind: s.probe.kind,
      path: s.probe.path ?? '',
      port: s.probe.port ?? 0,
      command: s.probe.command ?? [],
      initialDelayS: s.probe.initial_delay_s,
      periodS: s.probe.period_s,
      failureThreshold: s.probe.failure_threshold,
    },
    volumes: s.volumes.map((v) => ({ name: v.name, mountPath: v.mount_path, sizeMib: v.size_mib })),
    dependsOn: s.depends_on,
    routes: toRouteSpecs(componentId, s.routes, sealer),
    tcpPorts: toTcpPortSpecs(s.tcp_ports),
    placement,
  });
}

/** Routes as the events carry them, each private key sealed for `<component id>/tls/<host>` (as lb-manager opens it). */
export function toRouteSpecs(componentId: string, routes: readonly RouteInput[], sealer: SecretSealer): eventsV1.HttpRoute[] {
  return routes.map((r) =>
    create(eventsV1.HttpRouteSchema, {
      host: r.host,
      pathPrefix: r.path_prefix,
      port: r.port,
      httpsRedirect: r.https_redirect,
      tls: r.tls && { certificatePem: r.tls.certificate_pem, sealedPrivateKey: sealer.seal(r.tls.private_key_pem, routeKeyContext(componentId, r.host)) },
    }),
  );
}

export function toTcpPortSpecs(ports: readonly TcpPortInput[]): eventsV1.TcpPort[] {
  return ports.map((t) => create(eventsV1.TcpPortSchema, { listenPort: t.listen_port, port: t.port }));
}

/** What a route's private key is sealed for: its component and host. */
export const routeKeyContext = (componentId: string, host: string) => `${componentId}/tls/${host}`;
