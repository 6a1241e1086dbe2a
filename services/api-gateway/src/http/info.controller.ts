import { Controller, Get, Inject, Req, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { ApiConfig } from '../config';
import { CONFIG } from '../tokens';
import { EVENT_LOG_PROXY_PATHS } from './event-log-proxy';
import { publicBase } from './public-url';
import { QueryParamsGuard } from './query-params';

// Read once: the version this process runs, not whatever is on disk later.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION = (require('../../package.json') as { version: string }).version;

/**
 * What a console (or any client) needs to know about this data center before it signs in:
 * no token, nothing secret (the same as /health tells). The websocket URL is this API's own
 * address: socket.io is proxied to event-log under it (event-log-proxy.ts), so a client needs
 * one address and one token for the REST API, operation timelines and runtime logs.
 */
@ApiTags('info')
@UseGuards(QueryParamsGuard)
@Controller('api/v1')
export class InfoController {
  constructor(@Inject(CONFIG) private readonly config: ApiConfig) {}

  @Get('info')
  info(@Req() req: FastifyRequest) {
    const base = publicBase(this.config, req);
    const live = this.config.WHARF_EVENTLOG_HTTP_URL !== undefined;
    return {
      name: this.config.WHARF_DC_NAME,
      version: VERSION,
      api_url: `${base}/api/v1`,
      // socket.io: io(websocket_url, { path: websocket_path, auth: { token } }); null when no event-log is configured.
      websocket_url: live ? base : null,
      websocket_path: live ? EVENT_LOG_PROXY_PATHS.socketIo : null,
      // The domain lb-manager gives components their default hosts under (the same WHARF_LB_DOMAIN).
      gateway_domain: this.config.WHARF_LB_DOMAIN,
    };
  }
}
