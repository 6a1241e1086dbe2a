import type { FastifyRequest } from 'fastify';
import type { ApiConfig } from '../config';

/** This API's address as clients reach it: WHARF_PUBLIC_URL, else the request's own Host. */
export function publicBase(config: ApiConfig, req: FastifyRequest): string {
  return (config.WHARF_PUBLIC_URL ?? `${req.protocol}://${req.headers.host ?? `${config.WHARF_HTTP_HOST}:${config.WHARF_HTTP_PORT}`}`).replace(/\/$/, '');
}
