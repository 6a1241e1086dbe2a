import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import { isEtcdUnavailable } from '@wharf/etcd';
import { UnavailableError, WharfError } from '@wharf/errors';
import type { Logger } from '@wharf/logging';
import { httpErrorOf } from '@wharf/service-kit';
import type { FastifyReply } from 'fastify';
import { BODY_LIMIT_BYTES } from './json-body';

/**
 * One error shape for every failure: {"error": {"code", "message", "field"?}}. Domain
 * errors (@wharf/errors) map by the one mapping (@wharf/service-kit's httpErrorOf, with
 * Retry-After); bad input of any kind (malformed JSON, too large, unknown route) gets its
 * 4xx; only a bug is a 500, and says no more than that.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<FastifyReply>();
    const send = (status: number, code: string, message: string, field?: string) =>
      res.status(status).send({ error: { code, message, ...(field ? { field } : {}) } });
    // etcd that failed below the guarded event store (e.g. a read at start-up) is still an outage, not a bug.
    if (!(err instanceof WharfError) && isEtcdUnavailable(err))
      err = new UnavailableError(`etcd is unavailable: ${(err as Error).message}`, { retryAfterMs: 2000 });
    if (err instanceof WharfError && err.code !== 'internal') {
      const { status, headers, body } = httpErrorOf(err);
      for (const [name, value] of Object.entries(headers)) res.header(name, value);
      return void res.status(status).send(body);
    }
    // Nest's HttpExceptions, and the body parser's and fastify's own refusals (json-body.ts), carry the status they mean.
    const status = err instanceof HttpException ? err.getStatus() : (err as { statusCode?: unknown })?.statusCode;
    if (typeof status === 'number' && (err instanceof HttpException || (status >= 400 && status < 500))) {
      if (status === 413) return void send(413, 'too_large', `body: larger than the ${BODY_LIMIT_BYTES / (1024 * 1024)} MiB limit`, 'body');
      if (err instanceof HttpException) {
        const code = status === 404 ? 'not_found' : status === 405 ? 'method_not_allowed' : 'invalid';
        return void send(status, code, status === 404 ? 'no such route' : err.message);
      }
      return void send(status, status === 415 ? 'unsupported_media_type' : 'invalid', (err as Error).message ?? 'bad request', 'body');
    }
    this.logger.error({ err }, 'unhandled error');
    send(500, 'internal', 'internal error');
  }
}
