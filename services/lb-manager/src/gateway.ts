import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore, Projection, type EventStore } from '@wharf/event-store';
import type { Logger } from '@wharf/logging';
import type { TransportSecurity } from '@wharf/pki';
import { SecretBox } from '@wharf/secrets';
import type { Clock } from '@wharf/system';
import { join } from 'node:path';
import { ensureDefaultCertificate } from './adapters/default-certificate.adapter';
import { EtcdEndpoints } from './adapters/etcd-endpoints.adapter';
import { closedToWorkers, NginxInstance, nginxMissing } from './adapters/nginx.adapter';
import { RoutingTableClient } from './adapters/routing-table.adapter';
import type { LbConfig } from './config';
import { routeCatalogProjection, type RouteCatalog } from './domain/route-catalog';
import type { GatewaySettings } from './domain/settings';
import { GatewaySync } from './sync/gateway-sync';

/** The Lua router, shipped beside src/ and dist/ (both one level below the service root). */
export const LUA_SOURCES = join(__dirname, '..', 'lua');

export function settingsFrom(c: LbConfig): GatewaySettings {
  return {
    domain: c.WHARF_LB_DOMAIN,
    listenAddress: c.WHARF_LB_LISTEN_ADDRESS,
    httpPort: c.WHARF_LB_HTTP_PORT,
    httpsPort: c.WHARF_LB_HTTPS_PORT,
    workerProcesses: c.WHARF_LB_WORKER_PROCESSES === 'auto' ? 'auto' : Number(c.WHARF_LB_WORKER_PROCESSES),
    workerConnections: c.WHARF_LB_WORKER_CONNECTIONS,
    connectTimeoutS: c.WHARF_LB_CONNECT_TIMEOUT_S,
    requestTimeoutS: c.WHARF_LB_REQUEST_TIMEOUT_S,
    idleTimeoutS: c.WHARF_LB_IDLE_TIMEOUT_S,
    clientTimeoutS: c.WHARF_LB_CLIENT_TIMEOUT_S,
    clientMaxBodyMib: c.WHARF_LB_CLIENT_MAX_BODY_MIB,
    tcpIdleTimeoutS: c.WHARF_LB_TCP_IDLE_TIMEOUT_S,
    workerShutdownTimeoutS: c.WHARF_LB_WORKER_SHUTDOWN_TIMEOUT_S,
    modulesDir: c.WHARF_LB_NGINX_MODULES_DIR,
  };
}

/**
 * The running gateway: etcd (through createEtcdClient, with lb-manager's client certificate),
 * the route fold of the feed, the endpoints watch, the two nginx
 * instances and the sync loop between them. main.ts / AppModule start and stop it.
 */
export class Gateway {
  readonly etcd: Etcd3;
  readonly keys: KeyLayout;
  readonly store: EventStore;
  readonly catalog: Projection<RouteCatalog>;
  readonly endpoints: EtcdEndpoints;
  readonly http: NginxInstance;
  readonly stream: NginxInstance;
  readonly table: RoutingTableClient;
  readonly sync: GatewaySync;
  readonly settings: GatewaySettings;
  private readonly box?: SecretBox;
  private readonly dataDir: string;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly config: LbConfig,
    security: TransportSecurity,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    this.settings = settingsFrom(config);
    this.etcd = createEtcdClient({ endpoints: config.WHARF_ETCD_ENDPOINTS, security, maxReceiveMessageBytes: -1 });
    this.keys = new KeyLayout(config.WHARF_ETCD_PREFIX);
    this.store = new EtcdEventStore({ client: this.etcd, keys: this.keys });
    this.box = config.WHARF_SECRET_KEY ? new SecretBox(SecretBox.parseKey(config.WHARF_SECRET_KEY)) : undefined;
    const dataDir = config.WHARF_LB_DATA_DIR.replace(/\/+$/, '');
    this.dataDir = dataDir;
    const instance = (name: string, socket: string, luaSourceDir?: string) =>
      new NginxInstance({
        name,
        binary: config.WHARF_LB_NGINX_BIN,
        paths: { prefix: `${dataDir}/${name}`, socket: `${dataDir}/${name}/run/${socket}` },
        luaSourceDir,
        logger,
      });
    this.http = instance('http', 'admin.sock', LUA_SOURCES);
    this.stream = instance('stream', 'control.sock');
    this.table = new RoutingTableClient(this.http.paths.socket);
    // Every change of the feed's fold or of the endpoints asks for a sync; the sync coalesces them.
    const definition = { ...routeCatalogProjection, apply: (s: RouteCatalog, e: Parameters<typeof routeCatalogProjection.apply>[1]) => this.onEvent(s, e) };
    this.catalog = new Projection(this.store, definition);
    this.endpoints = new EtcdEndpoints(this.etcd, this.keys, logger, () => this.sync?.request());
    this.sync = new GatewaySync({
      settings: this.settings,
      http: this.http,
      stream: this.stream,
      table: this.table,
      catalog: () => this.catalog.state,
      endpoints: () => this.endpoints.endpoints,
      endpointsRevision: () => this.endpoints.revision,
      openSecret: (sealed, context) => {
        if (!this.box) throw new Error('lb-manager has no WHARF_SECRET_KEY to open it with');
        return this.box.open(sealed, context);
      },
      clock,
      logger,
    });
  }

  private onEvent(state: RouteCatalog, event: Parameters<typeof routeCatalogProjection.apply>[1]): RouteCatalog {
    const before = state.changes;
    const next = routeCatalogProjection.apply(state, event);
    if (next.changes !== before) this.sync?.request();
    return next;
  }

  async start(): Promise<void> {
    const missing = nginxMissing(this.config.WHARF_LB_NGINX_BIN, this.settings.modulesDir, [
      'ngx_stream_module.so',
      'ngx_http_lua_module.so',
      'ndk_http_module.so',
    ]);
    if (missing) throw new Error(missing);
    const closed = process.getuid?.() === 0 ? closedToWorkers(this.dataDir) : undefined;
    if (closed)
      this.logger.warn(
        { dir: closed },
        `nginx's workers (an unprivileged user) cannot enter ${closed}: requests whose body or response nginx buffers to disk under ${this.dataDir} will fail; chmod o+x it or choose another WHARF_LB_DATA_DIR`,
      );
    const cert = await ensureDefaultCertificate({
      client: this.etcd,
      keys: this.keys,
      domain: this.settings.domain,
      nowMs: this.clock.now(),
      box: this.box,
      logger: this.logger,
    });
    await this.http.prepare({ 'tls/default.crt': { content: cert.certificatePem }, 'tls/default.key': { content: cert.privateKeyPem, mode: 0o600 } });
    await this.stream.prepare();
    await Promise.all([this.catalog.start(), this.endpoints.start()]);
    await this.sync.begin();
    // The resync finds an nginx that restarted empty, a certificate that expired, a port freed.
    this.timer = setInterval(() => this.sync.request(), this.config.WHARF_LB_RESYNC_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.catalog.stop();
    await this.endpoints.close();
    await this.sync.idle();
    if (this.config.WHARF_LB_STOP_NGINX_ON_EXIT) await Promise.all([this.http.stop(), this.stream.stop()]);
    this.etcd.close();
  }
}
