import type { ComponentView } from '../catalog';

function buildComponentView(c: ComponentView) {
  const s = c.spec;
  return {
    id: c.id,
    app_id: c.appId,
    name: c.name,
    version: c.version,
    source:
      s.source.case === 'image'
        ? { image: s.source.value.image }
        : s.source.case === 'git'
          ? { git: { url: s.source.value.url, branch: s.source.value.branch, sub_dir: s.source.value.subDir, dockerfile: s.source.value.dockerfile } }
          : null,
    ports: s.ports.map((x) => ({ port: x.port, protocol: x.protocol, public: x.public })),
    env: s.env.map((e) => (e.secret ? { name: e.name, secret: true, value: null } : { name: e.name, secret: false, value: e.value })),
    cpu_millis: s.cpuMillis,
    memory_mib: s.memoryMib,
    replicas: s.replicas,
    probe: s.probe
      ? {
          kind: s.probe.kind,
          path: s.probe.path || undefined,
          port: s.probe.port || undefined,
          command: s.probe.command.length ? s.probe.command : undefined,
          initial_delay_s: s.probe.initialDelayS,
          period_s: s.probe.periodS,
          failure_threshold: s.probe.failureThreshold,
        }
      : null,
    volumes: s.volumes.map((v) => ({ name: v.name, mount_path: v.mountPath, size_mib: v.sizeMib })),
    stateful: s.volumes.length > 0,
    depends_on: s.dependsOn,
    // A route's certificate is public; its private key never leaves (sealed in the event store).
    routes: s.routes.map((r) => ({
      host: r.host,
      path_prefix: r.pathPrefix,
      port: r.port,
      https_redirect: r.httpsRedirect,
      tls: r.tls ? { certificate_pem: r.tls.certificatePem } : null,
    })),
    tcp_ports: s.tcpPorts.map((t) => ({ listen_port: t.listenPort, port: t.port })),
    placement: { ...s.placement },
    active_operation: c.activeOperation ?? null,
    current_version: c.currentVersion ?? null,
    previous_version: c.previousVersion ?? null,
    versions: c.versions.length,
    created_at_ms: c.createdAtMs,
    updated_at_ms: c.updatedAtMs,
  };
}

export type ComponentJson = ReturnType<typeof buildComponentView>;

/**
 * The JSON shape of a component; secret values never leave in clear. Reads far outnumber
 * changes: the view is built once per change and kept on the catalog entry (less garbage,
 * steadier p99); the catalog drops it when any event touches the component.
 */
export function componentView(c: ComponentView): ComponentJson {
  const cache = (c.cache ??= {});
  return (cache.view ??= buildComponentView(c)) as ComponentJson;
}

/** The component as JSON text, serialised once per change (GET is the hot path). */
export function componentJson(c: ComponentView): string {
  const cache = (c.cache ??= {});
  return (cache.json ??= JSON.stringify(componentView(c)));
}

/** Lists carry a summary; GET of one component has everything. */
export function componentSummary(c: ComponentView) {
  const src = c.spec.source;
  return {
    id: c.id,
    name: c.name,
    version: c.version,
    source: src.case === 'image' ? { image: src.value.image } : src.case === 'git' ? { git: { url: src.value.url, branch: src.value.branch } } : null,
    replicas: c.spec.replicas,
    active_operation: c.activeOperation ?? null,
    updated_at_ms: c.updatedAtMs,
  };
}

/** The summary as JSON text, serialised once per change (a page is then string joins). */
export function componentSummaryJson(c: ComponentView): string {
  const cache = (c.cache ??= {});
  return (cache.summary ??= JSON.stringify(componentSummary(c)));
}
