import { Controller, Get, Header, Inject } from '@nestjs/common';
import type { ReadinessCheck } from '@wharf/service-kit';
import type { Registry } from 'prom-client';
import type { Gateway } from '../gateway';
import { GATEWAY, METRICS } from '../tokens';

/** /readyz: following the feed and the endpoints, and nginx serving the current table. */
export function gatewayChecks(gateway: Gateway): ReadinessCheck[] {
  return [
    {
      name: 'routes',
      check: () =>
        gateway.catalog.live ? { ok: true, detail: `following the feed at ${gateway.catalog.position}` } : { ok: false, detail: 'not following the feed' },
    },
    {
      name: 'endpoints',
      check: () => (gateway.endpoints.following ? { ok: true } : { ok: false, detail: 'not watching <root>/endpoints/' }),
    },
    {
      name: 'nginx',
      check: () => {
        const s = gateway.sync.status;
        if (s.httpGeneration === undefined) return { ok: false, detail: `the http instance does not run: ${s.errors.http ?? 'not started'}` };
        if (s.errors.table) return { ok: false, detail: s.errors.table };
        return { ok: true, detail: `table ${s.tableVersion}, http ${s.httpGeneration}, stream ${s.streamGeneration ?? 'not running'}` };
      },
    },
  ];
}

@Controller()
export class GatewayController {
  constructor(
    @Inject(GATEWAY) private readonly gateway: Gateway,
    @Inject(METRICS) private readonly metrics: Registry,
  ) {}

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metricsText(): Promise<string> {
    return this.metrics.metrics();
  }

  /** What the gateway serves and what it refuses, with the reasons (never a private key). */
  @Get('routes')
  routes() {
    const s = this.gateway.sync.status;
    const state = s.state;
    return {
      table_version: s.tableVersion ?? null,
      http_generation: s.httpGeneration ?? null,
      stream_generation: s.streamGeneration ?? null,
      errors: s.errors,
      syncs: s.syncs,
      components: this.gateway.catalog.state.components.size,
      feed_position: this.gateway.catalog.position,
      http: (state?.rules ?? []).map((r) => ({
        host: r.host,
        path_prefix: r.pathPrefix,
        upstream: r.upstream,
        https_redirect: r.httpsRedirect,
        peers: state?.upstreams.find((u) => u.key === r.upstream)?.peers.map((p) => `${p.address}:${p.port}`) ?? [],
      })),
      tcp: (state?.tcp ?? []).map((t) => ({
        listen_port: t.listenPort,
        upstream: t.upstream.key,
        peers: t.upstream.peers.map((p) => `${p.address}:${p.port}`),
      })),
      certificates: (state?.certificates ?? []).map((c) => c.host),
      rejected: (state?.rejections ?? []).map((r) => ({ component_id: r.componentId, what: r.what, reason: r.reason })),
      endpoint_problems: Object.fromEntries(this.gateway.endpoints.problems),
    };
  }
}
