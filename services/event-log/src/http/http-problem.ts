import { HttpException, HttpStatus } from '@nestjs/common';
import { invalidArgument, WharfError, type ErrorCode } from '@wharf/errors';

const statusOf: Record<ErrorCode, HttpStatus> = {
  invalid_argument: HttpStatus.BAD_REQUEST,
  not_found: HttpStatus.NOT_FOUND,
  already_exists: HttpStatus.CONFLICT,
  conflict: HttpStatus.CONFLICT,
  failed_precondition: HttpStatus.PRECONDITION_FAILED,
  permission_denied: HttpStatus.FORBIDDEN,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  resource_exhausted: HttpStatus.TOO_MANY_REQUESTS,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
  deadline_exceeded: HttpStatus.GATEWAY_TIMEOUT,
  cancelled: HttpStatus.BAD_REQUEST,
  internal: HttpStatus.INTERNAL_SERVER_ERROR,
};

/**
 * The HTTP edge of the error vocabulary: a WharfError -> its status and
 * {"error": {code, message, field?, reason?}}; anything else is a bug, answered as internal.
 */
export function httpProblem(err: unknown): HttpException {
  if (!(err instanceof WharfError) || err.code === 'internal')
    return new HttpException({ error: { code: 'internal', message: 'internal error' } }, HttpStatus.INTERNAL_SERVER_ERROR);
  const body = { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}), ...(err.reason ? { reason: err.reason } : {}) } };
  return new HttpException(body, statusOf[err.code]);
}

/** A query parameter that is an integer 0..max, or its default when absent. */
export function intParam(name: string, raw: string | undefined, def: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  if (!/^\d{1,15}$/.test(raw) || Number(raw) > max) throw httpProblem(invalidArgument(name, `must be an integer 0-${max}`));
  return Number(raw);
}
