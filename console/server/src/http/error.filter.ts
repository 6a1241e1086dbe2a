import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import { isEtcdUnavailable } from '@wharf/etcd';
import { UnavailableError, WharfError } from '@wharf/errors';
import type { Logger } from '@wharf/logging';
import { httpErrorOf } from '@wharf/service-kit';
import type { Response } from 'express';
import { DataCenterError } from '../domain/federation.service';
import { DataCenterUnreachableError } from '../domain/ports';

/**
 * One error shape, as the data centers' own: {"error": {"code", "message", "field"?}}. A data
 * center's error answer passes through with its status (its field names what to fix); one that
 * cannot be reached is 503 `unreachable` naming it; bad input of any kind is its 4xx; only a
 * bug is a 500, and says no more than that.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return void res.end();
    const send = (status: number, code: string, message: string, field?: string) =>
      res.status(status).json({ error: { code, message, ...(field ? { field } : {}) } });
    if (err instanceof DataCenterError) return void res.status(err.status).json({ error: err.error });
    if (err instanceof DataCenterUnreachableError)
      return void res
        .setHeader('Retry-After', '2')
        .status(503)
        .json({ error: { code: 'unreachable', message: err.message, field: 'dc' } });
    if (!(err instanceof WharfError) && isEtcdUnavailable(err))
      err = new UnavailableError(`etcd is unavailable: ${(err as Error).message}`, { retryAfterMs: 2000 });
    if (err instanceof WharfError && err.code !== 'internal') {
      const { status, headers, body } = httpErrorOf(err);
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      return void res.status(status).json(body);
    }
    if (err instanceof HttpException) {
      const status = err.getStatus();
      if (status === 429) return void send(429, 'rate_limited', 'too many sign-in attempts: wait a minute and try again');
      const code = status === 404 ? 'not_found' : status === 413 ? 'too_large' : 'invalid';
      return void send(status, code, status === 404 ? 'no such route' : err.message);
    }
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
