import { Module, type DynamicModule, type OnApplicationShutdown, type OnModuleDestroy, type Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore, Projection, type EventStore } from '@wharf/event-store';
import type { Logger } from '@wharf/logging';
import type { TransportSecurity } from '@wharf/pki';
import { ProbesModule, type Readiness } from '@wharf/service-kit';
import { randomIds, systemClock, type Clock, type Ids } from '@wharf/system';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { SecretBox } from './adapters/aes-secret-box.adapter';
import { EtcdRuntimeStatus } from './adapters/etcd-runtime-status.adapter';
import { CatalogSnapshotter } from './adapters/catalog-snapshotter';
import { EtcdProbe } from './adapters/etcd-probe.adapter';
import { EventLogSteps } from './adapters/event-log-steps.adapter';
import { GuardedEventStore } from './adapters/guarded-event-store.adapter';
import { MqTaskQueue } from './adapters/mq-task-queue.adapter';
import { ProjectionSnapshots } from './adapters/projection-snapshots.adapter';
import type { ApiConfig } from './config';
import { AppsService } from './domain/apps.service';
import { catalogProjection, type Catalog } from './domain/catalog';
import { ComponentsService } from './domain/components.service';
import { DependencyState } from './domain/dependency-state';
import { GatewayContext } from './domain/gateway-context';
import { IdentityService } from './domain/identity.service';
import { OperationsService } from './domain/operations.service';
import { NodesService } from './domain/nodes.service';
import { NodeDirectory } from '@wharf/nodes';
import { catalogCheck, etcdCheck } from './domain/readiness';
import type { SecretSealer } from './domain/secret-sealer';
import type { StepSource } from './domain/steps';
import { TaskDispatcher } from './domain/task-dispatcher';
import { TenantsService } from './domain/tenants.service';
import { RuntimeStatusService } from './domain/runtime-status.service';
import { VersionsService } from './domain/versions.service';
import { WebhooksService } from './domain/webhooks.service';
import { HttpModule } from './http/http.module';
import {
  CATALOG,
  CLOCK,
  CONFIG,
  ETCD,
  ETCD_PROBE,
  ETCD_STATE,
  EVENT_STORE,
  IDS,
  LOGGER,
  METRICS,
  READINESS_CHECKS,
  SECRET_SEALER,
  SNAPSHOTTER,
  STEP_SOURCE,
  TASK_QUEUE,
} from './tokens';

export interface AppOptions {
  config: ApiConfig;
  logger: Logger;
  /** The 32-byte key secret env values are sealed with (main.ts reads WHARF_SECRET_KEY). */
  secretKey: Buffer;
  /** /readyz (ProbesModule): etcd reachable and the catalog following the feed are added to it. */
  readiness: Readiness;
  /** Mutual TLS to etcd, mq and event-log (or insecure-dev). */
  security: TransportSecurity;
  clock?: Clock;
  ids?: Ids;
}

const factory = <T>(
  provide: symbol | (abstract new (...args: never[]) => T),
  inject: (symbol | (abstract new (...args: never[]) => unknown))[],
  useFactory: (...deps: never[]) => T | Promise<T>,
): Provider => ({
  provide,
  inject,
  useFactory,
});

/**
 * The api-gateway: adapters (etcd, mq, event-log, crypto) wired to the use cases
 * (domain/), served by the controllers of HttpModule. Global, so HttpModule's
 * controllers and guards inject the use cases by class. Creating it catches the catalog
 * up with the feed (from the latest snapshot), so the app serves nothing stale; its
 * shutdown hooks stop it in order (app.close(), from stopOnSignals).
 */
@Module({})
export class AppModule implements OnModuleDestroy, OnApplicationShutdown {
  static forRoot(options: AppOptions): DynamicModule {
    const { config } = options;
    const providers: Provider[] = [
      { provide: CONFIG, useValue: config },
      { provide: LOGGER, useValue: options.logger },
      { provide: CLOCK, useValue: options.clock ?? systemClock },
      { provide: IDS, useValue: options.ids ?? randomIds },
      { provide: KeyLayout, useValue: new KeyLayout(config.WHARF_ETCD_PREFIX) },
      { provide: ETCD, useFactory: () => createEtcdClient({ endpoints: config.WHARF_ETCD_ENDPOINTS, security: options.security }) },
      factory(ETCD_STATE, [CLOCK], (clock: Clock) => new DependencyState('etcd', clock)),
      factory(ETCD_PROBE, [KeyLayout, ETCD_STATE, CLOCK], (keys: KeyLayout, state: DependencyState, clock: Clock) => {
        // Its own client without retries: a probe fails as fast as etcd does.
        const probe = new EtcdProbe(
          createEtcdClient({ endpoints: config.WHARF_ETCD_ENDPOINTS, security: options.security, maxAttempts: 0, dialTimeoutMs: 1000 }),
          keys,
          state,
          clock,
        );
        probe.start();
        return probe;
      }),
      factory(
        EVENT_STORE,
        [ETCD, KeyLayout, ETCD_STATE, CLOCK],
        (client: Etcd3, keys: KeyLayout, state: DependencyState, clock: Clock) =>
          new GuardedEventStore(new EtcdEventStore({ client, keys, now: () => clock.now() }), state),
      ),
      factory(
        SNAPSHOTTER,
        [ETCD, KeyLayout, LOGGER, CLOCK],
        (client: Etcd3, keys: KeyLayout, logger: Logger, clock: Clock) =>
          new CatalogSnapshotter(new ProjectionSnapshots(client, keys, catalogProjection.name), logger, undefined, () => clock.now()),
      ),
      factory(CATALOG, [EVENT_STORE, SNAPSHOTTER, LOGGER, CLOCK], async (store: EventStore, snapshotter: CatalogSnapshotter, logger: Logger, clock: Clock) => {
        const projection = new Projection(store, catalogProjection);
        const started = clock.now();
        // Cold start: the latest saved catalog, then the feed from its position (not a full replay).
        const saved = await snapshotter.restore(store);
        const loadedMs = clock.now() - started;
        await projection.start(saved);
        snapshotter.start(projection);
        logger.info(
          {
            ms: clock.now() - started,
            snapshotMs: saved ? loadedMs : undefined,
            fromSnapshot: saved?.position,
            position: projection.position,
            events: projection.state.events,
          },
          'catalog caught up',
        );
        return projection;
      }),
      { provide: TASK_QUEUE, useFactory: () => new MqTaskQueue(config.WHARF_MQ_ADDR, options.security) },
      factory(TaskDispatcher, [TASK_QUEUE, LOGGER, CATALOG], (queue: MqTaskQueue, logger: Logger, projection: Projection<Catalog>) => {
        const tasks = new TaskDispatcher(queue, logger);
        // A queued operation goes to mq when the one before it finishes (live only, after catch-up).
        projection.state.onActivated = (op) => void tasks.dispatch(op);
        tasks.start(
          (eventId) => projection.state.operations.get(eventId)?.status === 'pending',
          2000,
          // A node task runs once per node: it still needs its unsent parts while any node has not finished.
          (eventId) => ['pending', 'running'].includes(projection.state.operations.get(eventId)?.status ?? 'pending'),
        );
        return tasks;
      }),
      {
        provide: STEP_SOURCE,
        useFactory: (): StepSource | null => (config.WHARF_EVENTLOG_ADDR ? new EventLogSteps(config.WHARF_EVENTLOG_ADDR, options.security) : null),
      },
      { provide: SECRET_SEALER, useFactory: () => new SecretBox(options.secretKey) },
      factory(
        GatewayContext,
        [EVENT_STORE, CATALOG, CLOCK, IDS],
        (store: EventStore, projection: Projection<Catalog>, clock: Clock, ids: Ids) => new GatewayContext(store, projection, clock, ids),
      ),
      factory(IdentityService, [GatewayContext], (ctx: GatewayContext) => new IdentityService(ctx)),
      factory(TenantsService, [GatewayContext], (ctx: GatewayContext) => new TenantsService(ctx)),
      factory(AppsService, [GatewayContext], (ctx: GatewayContext) => new AppsService(ctx)),
      factory(
        OperationsService,
        [GatewayContext, TaskDispatcher, STEP_SOURCE],
        (ctx: GatewayContext, tasks: TaskDispatcher, steps: StepSource | null) => new OperationsService(ctx, tasks, steps),
      ),
      factory(
        ComponentsService,
        [GatewayContext, SECRET_SEALER, OperationsService],
        (ctx: GatewayContext, sealer: SecretSealer, operations: OperationsService) =>
          new ComponentsService(ctx, sealer, operations, { domain: config.WHARF_LB_DOMAIN }),
      ),
      factory(VersionsService, [GatewayContext], (ctx: GatewayContext) => new VersionsService(ctx)),
      factory(
        NodesService,
        [GatewayContext, ETCD, KeyLayout, EVENT_STORE, TaskDispatcher, STEP_SOURCE],
        (ctx: GatewayContext, client: Etcd3, keys: KeyLayout, store: EventStore, tasks: TaskDispatcher, steps: StepSource | null) =>
          new NodesService(ctx, new NodeDirectory(client, keys, store), store, tasks, steps),
      ),
      factory(
        WebhooksService,
        [GatewayContext, SECRET_SEALER, OperationsService],
        (ctx: GatewayContext, sealer: SecretSealer, operations: OperationsService) => new WebhooksService(ctx, sealer, operations),
      ),
      factory(
        RuntimeStatusService,
        [GatewayContext, ETCD, KeyLayout, ETCD_STATE],
        (ctx: GatewayContext, client: Etcd3, keys: KeyLayout, etcd: DependencyState) =>
          new RuntimeStatusService(ctx, new EtcdRuntimeStatus(client, keys, etcd)),
      ),
      factory(READINESS_CHECKS, [ETCD_STATE, CATALOG], (etcd: DependencyState, projection: Projection<Catalog>) => {
        const checks = [etcdCheck(etcd), catalogCheck(projection)];
        options.readiness.add(...checks);
        return checks;
      }),
      {
        provide: METRICS,
        useFactory: () => {
          const registry = new Registry();
          collectDefaultMetrics({ register: registry, prefix: 'wharf_api_' });
          return registry;
        },
      },
    ];
    return {
      module: AppModule,
      global: true,
      imports: [HttpModule, ProbesModule.forRoot(options.readiness)],
      providers,
      exports: providers.map((p) => (typeof p === 'function' ? p : p.provide)),
    };
  }

  constructor(private readonly refs: ModuleRef) {}

  /** Going down (stopOnSignals -> app.close()), before the HTTP server closes: no new tasks, no probes. */
  onModuleDestroy(): void {
    this.refs.get(TaskDispatcher).stop();
    this.refs.get<EtcdProbe>(ETCD_PROBE).stop();
  }

  /** After the HTTP server closed: the catalog saved (a graceful restart then replays nothing), then the clients. */
  async onApplicationShutdown(): Promise<void> {
    const projection = this.refs.get<Projection<Catalog>>(CATALOG);
    try {
      await this.refs.get<CatalogSnapshotter>(SNAPSHOTTER).stop(projection);
      await projection.stop();
    } finally {
      this.refs.get<MqTaskQueue>(TASK_QUEUE).close();
      this.refs.get<EventLogSteps | null>(STEP_SOURCE)?.close();
      this.refs.get<EtcdProbe>(ETCD_PROBE).close();
      this.refs.get<Etcd3>(ETCD).close();
    }
  }
}
