import { Module, type DynamicModule, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { consoleV1 } from '@wharf/contracts';
import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore, eventsRegistry, Projection, type EventStore } from '@wharf/event-store';
import type { Logger } from '@wharf/logging';
import type { TransportSecurity } from '@wharf/pki';
import { SecretBox } from '@wharf/secrets';
import { ProbesModule, type Readiness } from '@wharf/service-kit';
import { randomIds, systemClock, type Clock, type Ids } from '@wharf/system';
import { BcryptHasher } from './adapters/bcrypt-hasher.adapter';
import { EtcdSessionStore } from './adapters/etcd-session-store.adapter';
import { HttpDataCenterApi } from './adapters/http-data-center-api.adapter';
import type { ConsoleConfig } from './config';
import { ConsoleContext } from './domain/console-context';
import { consoleProjection, type ConsoleState } from './domain/console-state';
import { DataCentersService } from './domain/data-centers.service';
import { FederationService } from './domain/federation.service';
import type { DataCenterApi, SessionStore } from './domain/ports';
import { ComponentRoutesService } from './domain/routes.service';
import { SessionsService } from './domain/sessions.service';
import { UsersService } from './domain/users.service';
import { HttpModule } from './http/http.module';
import { CLOCK, CONFIG, DC_API, ETCD, EVENT_STORE, IDS, LOGGER, SESSION_STORE, STATE } from './tokens';

export interface ConsoleAppOptions {
  config: ConsoleConfig;
  logger: Logger;
  /** The 32-byte key data-center tokens are sealed with. */
  secretKey: Buffer;
  readiness: Readiness;
  /** Mutual TLS to etcd (or insecure-dev). */
  security: TransportSecurity;
  clock?: Clock;
  ids?: Ids;
  /** bcrypt cost (tests lower it). */
  bcryptCost?: number;
}

type Token = symbol | (abstract new (...args: never[]) => unknown);
const factory = (provide: Token, inject: Token[], useFactory: (...deps: never[]) => unknown): Provider => ({ provide, inject, useFactory });

/**
 * The console server: its own event store on its own etcd prefix (users, data centers), a
 * projection of it caught up before the app serves, sessions in etcd, and the data centers'
 * APIs behind timeouts and back-off.
 */
@Module({})
export class AppModule implements OnApplicationShutdown {
  static forRoot(options: ConsoleAppOptions): DynamicModule {
    const { config } = options;
    const providers: Provider[] = [
      { provide: CONFIG, useValue: config },
      { provide: LOGGER, useValue: options.logger },
      { provide: CLOCK, useValue: options.clock ?? systemClock },
      { provide: IDS, useValue: options.ids ?? randomIds },
      { provide: ETCD, useFactory: () => createEtcdClient({ endpoints: config.WHARF_ETCD_ENDPOINTS, security: options.security }) },
      factory(
        EVENT_STORE,
        [ETCD, CLOCK],
        (client: Etcd3, clock: Clock) =>
          new EtcdEventStore({
            client,
            keys: new KeyLayout(config.WHARF_CONSOLE_ETCD_PREFIX),
            registry: eventsRegistry(consoleV1.file_wharf_console_v1_events),
            now: () => clock.now(),
          }),
      ),
      factory(STATE, [EVENT_STORE], async (store: EventStore) => {
        const projection = new Projection(store, consoleProjection);
        await projection.start();
        options.readiness.add({
          name: 'etcd',
          check: () =>
            projection.live
              ? { ok: true, detail: `following the console feed at ${projection.position}` }
              : { ok: false, detail: 'not following the console feed (etcd unreachable?)' },
        });
        return projection;
      }),
      factory(
        ConsoleContext,
        [EVENT_STORE, STATE, CLOCK, IDS],
        (store: EventStore, state: Projection<ConsoleState>, clock: Clock, ids: Ids) => new ConsoleContext(store, state, clock, ids),
      ),
      factory(SESSION_STORE, [ETCD, CLOCK], (client: Etcd3, clock: Clock) => new EtcdSessionStore(client, config.WHARF_CONSOLE_ETCD_PREFIX, () => clock.now())),
      factory(
        DC_API,
        [CLOCK],
        (clock: Clock) =>
          new HttpDataCenterApi({ timeoutMs: config.WHARF_CONSOLE_DC_TIMEOUT_MS, initialMs: 500, maxMs: config.WHARF_CONSOLE_DC_BACKOFF_MAX_MS }, clock),
      ),
      factory(UsersService, [ConsoleContext], (ctx: ConsoleContext) => new UsersService(ctx, new BcryptHasher(options.bcryptCost))),
      factory(
        SessionsService,
        [ConsoleContext, SESSION_STORE],
        (ctx: ConsoleContext, store: SessionStore) => new SessionsService(ctx, store, config.WHARF_CONSOLE_SESSION_TTL_MS),
      ),
      factory(
        DataCentersService,
        [ConsoleContext, UsersService, DC_API],
        (ctx: ConsoleContext, users: UsersService, api: DataCenterApi) => new DataCentersService(ctx, users, api, new SecretBox(options.secretKey)),
      ),
      factory(FederationService, [DataCentersService, DC_API], (dcs: DataCentersService, api: DataCenterApi) => new FederationService(dcs, api)),
      factory(ComponentRoutesService, [FederationService], (federation: FederationService) => new ComponentRoutesService(federation)),
    ];
    return {
      module: AppModule,
      global: true,
      imports: [HttpModule.forRoot(config.WHARF_CONSOLE_LOGIN_LIMIT), ProbesModule.forRoot(options.readiness)],
      providers,
      exports: providers.map((p) => (typeof p === 'function' ? p : p.provide)),
    };
  }

  constructor(private readonly refs: ModuleRef) {}

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.refs.get<Projection<ConsoleState>>(STATE).stop();
    } finally {
      this.refs.get<Etcd3>(ETCD).close();
    }
  }
}
