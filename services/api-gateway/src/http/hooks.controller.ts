import { Controller, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { WebhooksService } from '../domain/webhooks.service';
import type { RequestWithRawBody } from './json-body';
import { QueryParamsGuard } from './query-params';

/**
 * Where git hosts post push events: no bearer token, the signature made with the webhook's
 * secret is the authentication. The body arrives as the exact bytes received, unparsed
 * (json-body.ts keeps them for this path, main.ts), which the HMAC is computed over.
 */
@ApiTags('webhooks')
@UseGuards(QueryParamsGuard)
@Controller('api/v1')
export class HooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post('hooks/:hook')
  @ApiOperation({
    summary: 'Receive a push event from a git host (push-to-deploy)',
    description:
      "A push of the component's branch builds the pushed commit and deploys it (202 {action: build, event_id}); other branches, tags and events are ignored (202), a ping 200; a delivery id seen before answers its operation (200 {action: duplicate}).",
  })
  @ApiHeader({ name: 'X-Hub-Signature-256', required: false, description: 'GitHub, Gitea: "sha256=" + hex HMAC-SHA256 of the raw body with the secret' })
  @ApiHeader({ name: 'X-GitHub-Event', required: false, description: 'push, ping, ...' })
  @ApiHeader({ name: 'X-GitHub-Delivery', required: false, description: 'the delivery id: a redelivery starts nothing new' })
  @ApiHeader({ name: 'X-Gitlab-Token', required: false, description: 'GitLab: the secret itself' })
  @ApiHeader({ name: 'X-Gitlab-Event', required: false, description: 'Push Hook, Tag Push Hook, ...' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: "GitLab's delivery id, the same on its retries" })
  @ApiBody({ description: "the git host's push event, JSON (up to 1 MiB)", schema: { type: 'object' } })
  @ApiResponse({ status: 202, description: 'build started (event_id) or push ignored (reason)' })
  @ApiResponse({ status: 401, description: 'missing or wrong signature or token: nothing started' })
  @ApiResponse({ status: 404, description: 'no such webhook' })
  async receive(@Param('hook') hook: string, @Req() req: RequestWithRawBody, @Res({ passthrough: true }) res: FastifyReply) {
    const raw = req.rawBody ?? Buffer.alloc(0);
    const answer = await this.webhooks.receive(hook, req.headers, raw);
    res.status(answer.status);
    return answer.body;
  }
}
