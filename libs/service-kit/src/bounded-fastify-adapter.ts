import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { RequestListener, Server } from 'node:http';
import { boundedHttpServer, clientErrorHandler, type HttpLimits } from './http-limits';

export interface BoundedFastifyOptions {
  /** Largest request body in bytes (then 413). */
  bodyLimitBytes: number;
  /**
   * Requests this returns true for go to `divert` instead of fastify, untouched (e.g. a byte
   * proxy that must see the body before any parser does).
   */
  divert?: { matches: (url: string) => boolean; handler: RequestListener };
}

/**
 * Nest's fastify adapter on a node:http server with the same bounds as BoundedExpressAdapter:
 * for the API's hot path, where express's per-request cost (a linear walk over every route's
 * layer, several wrapping closures) was most of a request's CPU. Fastify routes through a radix
 * tree and serialises replies without that walk.
 */
export function boundedFastifyAdapter(limits: HttpLimits, options: BoundedFastifyOptions): FastifyAdapter {
  const onClientError = clientErrorHandler(limits);
  return new FastifyAdapter({
    serverFactory: (handler: RequestListener): Server => {
      const divert = options.divert;
      return boundedHttpServer(limits, divert ? (req, res) => (divert.matches(req.url ?? '') ? divert.handler(req, res) : handler(req, res)) : handler);
    },
    bodyLimit: options.bodyLimitBytes,
    clientErrorHandler: (err, socket) => onClientError(err, socket),
    // Ids and routes are ours to log (pino in @wharf/logging); fastify's own logger stays off.
    logger: false,
    // "/a/" and "/a" are the same resource, as they were under express.
    ignoreTrailingSlash: true,
    // Route params here are ids and names, bounded by the API's own validation.
    maxParamLength: 256,
  });
}
