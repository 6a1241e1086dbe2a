import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import { isEtcdUnavailable } from '@wharf/etcd';
import { UnavailableError, WharfError } from '@wharf/errors';
import type { Logger } from '@wharf/logging';
import { httpErrorOf } from '@wharf/service-kit';
import type { FastifyReply } from 'fastify';

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
    if (err instanceof HttpException) {
      const status = err.getStatus();
      if (status === 413) return void send(413, 'too_large', 'body: larger than the 1 MiB limit', 'body');
      const code = status === 404 ? 'not_found' : status === 413 ? 'too_large' : status === 405 ? 'method_not_allowed' : 'invalid';
      return void send(status, code, status === 404 ? 'no such route' : err.message);
    }
    // The body parser's and fastify's own refusals carry the status they mean (json-body.ts).
    const e = err as { statusCode?: number; message?: string };
    if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      const status = e.statusCode;
      if (status === 413) return void send(413, 'too_large', 'body: larger than the 1 MiB limit', 'body');
      return void send(status, status === 415 ? 'unsupported_media_type' : 'invalid', e.message ?? 'bad request', 'body');
    }
    this.logger.error({ err }, 'unhandled error');
    send(500, 'internal', 'internal error');
  }
}
