import { WharfError, type ErrorCode } from '@wharf/errors';

/** HTTP status of each error code (the one mapping; services add nothing of their own). */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  conflict: 409,
  failed_precondition: 409,
  resource_exhausted: 429,
  cancelled: 499,
  internal: 500,
  unavailable: 503,
  deadline_exceeded: 504,
};

/** The `error.code` REST clients read; stable names from before the vocabulary was shared. */
const REST_CODE: Partial<Record<ErrorCode, string>> = { invalid_argument: 'invalid', permission_denied: 'forbidden' };

export interface HttpErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: string; message: string; field?: string } };
}

/** What an HTTP edge answers for a thrown value: a WharfError as it says, anything else a generic 500. */
export function httpErrorOf(err: unknown): HttpErrorResponse {
  if (!(err instanceof WharfError)) return { status: 500, headers: {}, body: { error: { code: 'internal', message: 'internal error' } } };
  const headers: Record<string, string> = {};
  if (err.retryAfterMs !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
  const code = err.reason ?? REST_CODE[err.code] ?? err.code;
  return { status: HTTP_STATUS[err.code], headers, body: { error: { code, message: err.message, ...(err.field ? { field: err.field } : {}) } } };
}
