import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule } from '@nestjs/common';
import { ProbesModule, type Readiness } from '@wharf/service-kit';
import type { Registry } from 'prom-client';
import type { NodeAgent } from './agent/node-agent';
import { NodeController } from './http/node.controller';
import { AGENT, METRICS, SHUTDOWN } from './tokens';

/** Stops the background work (task consumer, lease watcher, heartbeat) when Nest closes. */
class Lifecycle implements BeforeApplicationShutdown {
  constructor(@Inject(SHUTDOWN) private readonly shutdown: () => Promise<void>) {}
  async beforeApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }
}

export interface NodeManagerModuleOptions {
  readiness: Readiness;
  metrics: Registry;
  agent: NodeAgent;
  shutdown: () => Promise<void>;
}

/** node-manager's HTTP side: /livez, /readyz, /metrics, /node. Its work runs outside Nest (see main.ts). */
@Module({})
export class NodeManagerModule {
  static forRoot(o: NodeManagerModuleOptions): DynamicModule {
    return {
      module: NodeManagerModule,
      imports: [ProbesModule.forRoot(o.readiness)],
      controllers: [NodeController],
      providers: [{ provide: METRICS, useValue: o.metrics }, { provide: SHUTDOWN, useValue: o.shutdown }, { provide: AGENT, useValue: o.agent }, Lifecycle],
    };
  }
}
