import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import { isEtcdUnavailable } from '@wharf/etcd';
import { UnavailableError, WharfError } from '@wharf/errors';
import type { Logger } from '@wharf/logging';
import { httpErrorOf } from '@wharf/service-kit';
import type { Response } from 'express';

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
    const res = host.switchToHttp().getResponse<Response>();
    const send = (status: number, code: string, message: string, field?: string) =>
      res.status(status).json({ error: { code, message, ...(field ? { field } : {}) } });
    // etcd that failed below the guarded event store (e.g. a read at start-up) is still an outage, not a bug.
    if (!(err instanceof WharfError) && isEtcdUnavailable(err))
      err = new UnavailableError(`etcd is unavailable: ${(err as Error).message}`, { retryAfterMs: 2000 });
    if (err instanceof WharfError && err.code !== 'internal') {
      const { status, headers, body } = httpErrorOf(err);
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      return void res.status(status).json(body);
    }
    if (err instanceof HttpException) {
      const status = err.getStatus();
      const code = status === 404 ? 'not_found' : status === 413 ? 'too_large' : status === 405 ? 'method_not_allowed' : 'invalid';
      return void send(status, code, status === 404 ? 'no such route' : err.message);
    }
    // body-parser's errors carry the status they mean (400 bad JSON, 413 too large, 415 charset).
    const e = err as { status?: number; type?: string; message?: string };
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      const message =
        e.type === 'entity.parse.failed'
          ? 'body: malformed JSON'
          : e.type === 'entity.too.large'
            ? 'body: larger than the 1 MiB limit'
            : (e.message ?? 'bad request');
      return void send(e.status, e.status === 413 ? 'too_large' : 'invalid', message, 'body');
    }
    this.logger.error({ err }, 'unhandled error');
    send(500, 'internal', 'internal error');
  }
}
