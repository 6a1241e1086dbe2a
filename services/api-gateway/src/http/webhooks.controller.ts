import { Delete, Get, Headers, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import type { Principal } from '@wharf/identity';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiConfig } from '../config';
import { WebhooksService, type WebhookInfo } from '../domain/webhooks.service';
import { CONFIG } from '../tokens';
import { ApiController } from './api-controller.decorator';
import { Caller } from './caller';
import { publicBase } from './public-url';
import { parseIfMatch, pathId } from './validation';

/** A component's push-to-deploy webhook (developers, owners, admins of its tenant); the receiver is hooks.controller.ts. */
@ApiController('webhooks')
export class WebhooksController {
  constructor(
    private readonly webhooks: WebhooksService,
    @Inject(CONFIG) private readonly config: ApiConfig,
  ) {}

  private withUrl<T extends WebhookInfo>(req: FastifyRequest, w: T) {
    return { ...w, url: `${publicBase(this.config, req)}${w.path}` };
  }

  @Post('tenants/:tenant/components/:component/webhook')
  @ApiOperation({
    summary: "Create the component's webhook (201) or rotate its secret (200, same URL)",
    description:
      'The answer holds the secret, once: set it on the git host (GitHub: Secret, content type application/json; GitLab: Secret token). Needs a git source.',
  })
  async setWebhook(
    @Caller() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const w = await this.webhooks.setWebhook(p, pathId(tenant, 'tenant'), pathId(component, 'component'), parseIfMatch(ifMatch));
    res.status(w.created ? 201 : 200);
    res.header('Cache-Control', 'no-store');
    return this.withUrl(req, w);
  }

  @Get('tenants/:tenant/components/:component/webhook')
  @ApiOperation({ summary: "The component's webhook URL (never its secret)" })
  getWebhook(@Caller() p: Principal, @Param('tenant') tenant: string, @Param('component') component: string, @Req() req: FastifyRequest) {
    return this.withUrl(req, this.webhooks.getWebhook(p, pathId(tenant, 'tenant'), pathId(component, 'component')));
  }

  @Delete('tenants/:tenant/components/:component/webhook')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete the webhook: its URL answers 404 from then on' })
  async removeWebhook(
    @Caller() p: Principal,
    @Headers('if-match') ifMatch: string | undefined,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
  ): Promise<void> {
    await this.webhooks.removeWebhook(p, pathId(tenant, 'tenant'), pathId(component, 'component'), parseIfMatch(ifMatch));
  }
}
