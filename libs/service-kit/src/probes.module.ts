import { Controller, Get, Inject, Module, Res, type DynamicModule } from '@nestjs/common';
import { Readiness } from './readiness';

/** What the probe needs of the reply: express's Response and fastify's reply both have it. */
type StatusReply = { status(code: number): unknown };

export const READINESS = Symbol('readiness');

/** `/livez`: the process runs and answers. `/readyz`: it can serve its main calls (503 with the failing checks otherwise). */
@Controller()
export class ProbesController {
  constructor(@Inject(READINESS) private readonly readiness: Readiness) {}

  @Get('livez')
  livez() {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: StatusReply) {
    const report = await this.readiness.report();
    res.status(report.ready ? 200 : 503);
    return { status: report.ready ? 'ready' : 'not_ready', checks: report.checks };
  }
}

/** Imported by every service's root module with the service's own Readiness. */
@Module({})
export class ProbesModule {
  static forRoot(readiness: Readiness): DynamicModule {
    return { module: ProbesModule, controllers: [ProbesController], providers: [{ provide: READINESS, useValue: readiness }], exports: [READINESS] };
  }
}
