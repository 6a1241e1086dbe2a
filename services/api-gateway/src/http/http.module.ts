import { Module } from '@nestjs/common';
import { AppsController } from './apps.controller';
import { AuthGuard } from './caller';
import { ComponentsController } from './components.controller';
import { HealthController } from './health.controller';
import { HooksController } from './hooks.controller';
import { IdentityController } from './identity.controller';
import { InfoController } from './info.controller';
import { NodesController } from './nodes.controller';
import { OperationsController } from './operations.controller';
import { QueryParamsGuard } from './query-params';
import { TenantsController } from './tenants.controller';
import { VersionsController } from './versions.controller';
import { WebhooksController } from './webhooks.controller';

/** REST /api/v1 and /health, /metrics; the use cases come from the AppModule (global). */
@Module({
  controllers: [
    IdentityController,
    TenantsController,
    AppsController,
    ComponentsController,
    VersionsController,
    OperationsController,
    NodesController,
    WebhooksController,
    HooksController,
    HealthController,
    InfoController,
  ],
  providers: [AuthGuard, QueryParamsGuard],
})
export class HttpModule {}
