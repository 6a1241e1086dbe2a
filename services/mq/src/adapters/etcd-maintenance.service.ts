import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  createEtcdClient,
  defaultMaintenancePolicy,
  ElectedMaintainer,
  Etcd3MaintenanceApi,
  EtcdHealthProbe,
  EtcdMaintainer,
  registerEtcdMetrics,
  type Etcd3,
  type KeyLayout,
} from '@wharf/etcd';
import type { Logger } from '@wharf/logging';
import type { TransportSecurity } from '@wharf/pki';
import { hostname } from 'node:os';
import { MqMetrics } from '../http/metrics';
import { ETCD_MAINTENANCE, LOGGER } from '../tokens';

export interface EtcdMaintenanceSettings {
  endpoints: string[];
  /** Mutual TLS to etcd (or insecure-dev), as the queue's client. */
  security: TransportSecurity;
  keys: KeyLayout;
  /** The --quota-backend-bytes etcd runs with. */
  quotaBytes: number;
  /** Whether this instance takes part in the election of the one maintainer. */
  enabled: boolean;
  intervalMs: number;
  retentionMs: number;
}

/**
 * etcd's health on /metrics and the one etcd maintainer of the data center: mq runs
 * wherever Wharf runs, and every instance stands in the election. Its own etcd client, so
 * the maintainer can resign (and another instance take over at once) after the queue has
 * closed the shared one.
 */
@Injectable()
export class EtcdMaintenanceService implements OnModuleInit, OnApplicationShutdown {
  readonly health: EtcdHealthProbe;
  private readonly client: Etcd3;
  private readonly api: Etcd3MaintenanceApi;
  private elected?: ElectedMaintainer;

  constructor(
    @Inject(ETCD_MAINTENANCE) private readonly settings: EtcdMaintenanceSettings,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: MqMetrics,
  ) {
    this.client = createEtcdClient({ endpoints: settings.endpoints, security: settings.security });
    this.api = new Etcd3MaintenanceApi(this.client, settings.endpoints, (endpoint) => createEtcdClient({ endpoints: [endpoint], security: settings.security }));
    this.health = new EtcdHealthProbe(this.client, { quotaBytes: settings.quotaBytes });
    registerEtcdMetrics(metrics.registry, this.health);
  }

  onModuleInit(): void {
    if (!this.settings.enabled) return;
    const logger = this.logger.child({ component: 'etcd-maintenance' });
    const maintainer = new EtcdMaintainer(this.api, {
      quotaBytes: this.settings.quotaBytes,
      policy: defaultMaintenancePolicy(this.settings.retentionMs),
      intervalMs: this.settings.intervalMs,
      logger,
      registry: this.metrics.registry,
    });
    this.elected = new ElectedMaintainer(this.client, this.settings.keys, maintainer, {
      identity: `mq-${hostname()}-${process.pid}`,
      logger,
      registry: this.metrics.registry,
    });
    this.elected.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.elected?.stop();
    this.api.close();
    this.client.close();
  }
}
