import type { Logger } from '@wharf/logging';
import type { Clock } from '@wharf/system';
import { NginxRejectedError, type NginxInstance } from '../adapters/nginx.adapter';
import type { RoutingTableClient } from '../adapters/routing-table.adapter';
import { desiredGateway } from '../domain/desired-gateway';
import type { ReadyEndpoints } from '../domain/endpoints';
import type { GatewayState, Rejection } from '../domain/gateway-state';
import { renderHttpConfig, renderStreamConfig } from '../domain/render-nginx-config';
import { renderRoutingTable } from '../domain/render-routing-table';
import type { RouteCatalog } from '../domain/route-catalog';
import type { GatewaySettings } from '../domain/settings';

/** What the sync needs of an nginx instance and of the routing table (the adapters; fakes in the unit test). */
export type NginxPort = Pick<NginxInstance, 'apply' | 'paths' | 'runningGeneration'>;
export type TablePort = Pick<RoutingTableClient, 'version' | 'replace'>;

export interface GatewaySyncOptions {
  settings: GatewaySettings;
  http: NginxPort;
  stream: NginxPort;
  table: TablePort;
  catalog: () => RouteCatalog;
  endpoints: () => ReadonlyMap<string, ReadyEndpoints>;
  /** Moves on every endpoints change: with catalog.changes it says when the desired state must be computed again. */
  endpointsRevision?: () => number;
  openSecret: (sealed: Uint8Array, context: string) => string;
  clock: Clock;
  logger: Logger;
  /** How long a TCP port nginx could not bind stays out before it is tried again. */
  blockedPortRetryMs?: number;
}

export interface SyncStatus {
  state?: GatewayState;
  tableVersion?: string;
  httpGeneration?: string;
  streamGeneration?: string;
  /** The last sync's failures (nginx refused something, the admin socket did not answer), by part. */
  errors: Record<string, string>;
  syncs: number;
  lastSyncMs?: number;
}

const BIND_FAILED = /bind\(\) to (?:\S+?):(\d+) failed[^;]*/g;
const rejectionKey = (r: Rejection) => `${r.componentId} ${r.what} ${r.reason}`;

/**
 * Keeps nginx equal to the desired state: on every change (and on a resync tick) renders the
 * state and applies what differs. One sync runs at a time; changes that arrive meanwhile are
 * coalesced into one more sync, so a burst of route or endpoint changes costs one reload of
 * the stream instance, and the http instance is not reloaded at all (its table is replaced).
 */
export class GatewaySync {
  readonly status: SyncStatus = { errors: {}, syncs: 0 };
  private dirty = false;
  private running?: Promise<void>;
  private logged = new Set<string>();
  /** TCP listen ports nginx failed to bind (taken by another process): port -> reason, until when. */
  private blocked = new Map<number, { reason: string; untilMs: number }>();
  private waiters: (() => void)[] = [];
  /** The last desired state and what it was computed from: a resync with nothing new reuses it (certificates are parsed once a minute, not every second). */
  private memo?: { key: string; desired: GatewayState };
  /** Held until the catch-up is done: a sync of half the feed would write a config nobody wants. */
  private open = false;

  constructor(private readonly o: GatewaySyncOptions) {}

  /** Something changed: sync soon (coalesced with any sync in progress). */
  request(): void {
    this.dirty = true;
    if (this.open && !this.running) this.running = this.loop().finally(() => (this.running = undefined));
  }

  /** Starts syncing (the routes and endpoints are read whole); resolves after the first sync. */
  begin(): Promise<void> {
    this.open = true;
    return this.settled();
  }

  /** Resolves after the next complete sync (tests and start-up). */
  settled(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.request();
    });
  }

  /** Resolves when no sync is running (shutdown). */
  async idle(): Promise<void> {
    this.open = false;
    this.dirty = false;
    await this.running;
  }

  private async loop(): Promise<void> {
    for (let round = 0; this.dirty && round < 1_000_000; round++) {
      this.dirty = false;
      const waiters = this.waiters.splice(0);
      try {
        await this.syncOnce();
      } catch (err) {
        this.o.logger.error({ err }, 'gateway sync failed');
      }
      for (const w of waiters) w();
      // Let the event loop deliver changes that arrived meanwhile: they coalesce into the next round.
      await new Promise((r) => setImmediate(r));
    }
  }

  private async syncOnce(): Promise<void> {
    const started = this.o.clock.now();
    const { settings, http, stream, table } = this.o;
    const desired = this.desired(started);
    const state = this.withoutBlockedPorts(desired, started);
    const errors: Record<string, string> = {};

    // http instance: its text depends on the settings only, so this is 'unchanged' but for the first sync.
    try {
      await http.apply(renderHttpConfig(settings, http.paths));
    } catch (err) {
      errors.http = (err as Error).message;
    }
    this.status.httpGeneration = http.runningGeneration;

    // The routing table, when nginx does not hold this version (changed, or nginx restarted empty).
    const routing = renderRoutingTable(state, settings.httpsPort);
    try {
      if (http.runningGeneration !== undefined && (await table.version()) !== routing.version) await table.replace(routing);
      this.status.tableVersion = routing.version;
    } catch (err) {
      errors.table = (err as Error).message;
    }

    // stream instance: reloaded when the TCP routes or their peers change.
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await stream.apply(renderStreamConfig(settings, stream.paths, state.tcp));
        break;
      } catch (err) {
        if (!(err instanceof NginxRejectedError) || !this.blockPorts(err.reason, started)) {
          errors.stream = (err as Error).message;
          break;
        }
        // A port nginx cannot bind: that route leaves, the others go ahead.
        state.tcp = state.tcp.filter((t) => !this.blocked.has(t.listenPort));
      }
    }
    state.rejections = [...desired.rejections, ...this.blockedRejections(desired)];
    this.status.streamGeneration = stream.runningGeneration;

    this.logNewRejections(state.rejections);
    for (const [part, message] of Object.entries(errors))
      if (this.status.errors[part] !== message) this.o.logger.error({ part, message }, 'gateway: nginx refused a change');
    this.status.errors = errors;
    this.status.state = state;
    this.status.syncs++;
    this.status.lastSyncMs = this.o.clock.now() - started;
  }

  private desired(nowMs: number): GatewayState {
    const catalog = this.o.catalog();
    const key = this.o.endpointsRevision ? `${catalog.changes}|${this.o.endpointsRevision()}|${Math.floor(nowMs / 60_000)}` : undefined;
    if (key !== undefined && this.memo?.key === key) return this.memo.desired;
    const desired = desiredGateway({ catalog, endpoints: this.o.endpoints(), settings: this.o.settings, nowMs, openSecret: this.o.openSecret });
    if (key !== undefined) this.memo = { key, desired };
    return desired;
  }

  private blockPorts(reason: string, nowMs: number): boolean {
    let found = false;
    for (const m of reason.matchAll(BIND_FAILED)) {
      const port = Number(m[1]);
      if (!this.blocked.has(port)) found = true;
      this.blocked.set(port, { reason: `nginx cannot listen on it: ${m[0]}`, untilMs: nowMs + (this.o.blockedPortRetryMs ?? 30_000) });
    }
    return found;
  }

  private withoutBlockedPorts(state: GatewayState, nowMs: number): GatewayState {
    for (const [port, b] of this.blocked) if (b.untilMs <= nowMs) this.blocked.delete(port);
    if (this.blocked.size === 0) return { ...state };
    return { ...state, tcp: state.tcp.filter((t) => !this.blocked.has(t.listenPort)) };
  }

  private blockedRejections(state: GatewayState): Rejection[] {
    return state.tcp
      .filter((t) => this.blocked.has(t.listenPort))
      .map((t) => ({ componentId: t.upstream.labels.componentId, what: `TCP port ${t.listenPort}`, reason: this.blocked.get(t.listenPort)!.reason }));
  }

  private logNewRejections(rejections: Rejection[]): void {
    const now = new Set(rejections.map(rejectionKey));
    for (const r of rejections) if (!this.logged.has(rejectionKey(r))) this.o.logger.warn(r, 'gateway: route not served');
    this.logged = now;
  }
}
