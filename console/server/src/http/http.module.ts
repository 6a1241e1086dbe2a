import { Module, type DynamicModule } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import type { Request } from 'express';
import { SessionGuard } from './auth';
import { DataCentersController } from './data-centers.controller';
import { FederationController } from './federation.controller';
import { RoutesController } from './routes.controller';
import { SessionController } from './session.controller';
import { UsersController } from './users.controller';

/** The console's REST API; the use cases come from the AppModule (global). */
@Module({})
export class HttpModule {
  /** loginLimit: sign-in attempts per minute per client address and user name (five times that per address). */
  static forRoot(loginLimit: number): DynamicModule {
    const ip = (req: Record<string, unknown>) => String((req as unknown as Request).ip ?? 'unknown');
    const name = (req: Record<string, unknown>) => {
      const body = (req as unknown as Request).body as { name?: unknown } | undefined;
      return typeof body?.name === 'string' ? body.name.slice(0, 63) : '';
    };
    return {
      module: HttpModule,
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [
            { name: 'login-user', ttl: 60_000, limit: loginLimit, getTracker: (req) => `${ip(req)}|${name(req)}` },
            { name: 'login-address', ttl: 60_000, limit: loginLimit * 5, getTracker: (req) => ip(req) },
          ],
        }),
      ],
      // RoutesController before FederationController: the latter's /dcs/:dc/* pass-through would take its paths.
      controllers: [SessionController, UsersController, DataCentersController, RoutesController, FederationController],
      providers: [SessionGuard],
    };
  }
}
