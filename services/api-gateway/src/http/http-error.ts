import { WharfError, type ErrorCode } from '@wharf/errors';

/** What clients see for each code: the status and the body's code (stable names from before @wharf/errors). */
const HTTP: Record<ErrorCode, { status: number; code: string }> = {
  invalid_argument: { status: 400, code: 'invalid' },
  unauthenticated: { status: 401, code: 'unauthenticated' },
  permission_denied: { status: 403, code: 'forbidden' },
  not_found: { status: 404, code: 'not_found' },
  already_exists: { status: 409, code: 'conflict' },
  conflict: { status: 409, code: 'conflict' },
  failed_precondition: { status: 409, code: 'failed_precondition' },
  resource_exhausted: { status: 429, code: 'too_many_requests' },
  cancelled: { status: 499, code: 'cancelled' },
  internal: { status: 500, code: 'internal' },
  unavailable: { status: 503, code: 'unavailable' },
  deadline_exceeded: { status: 504, code: 'deadline_exceeded' },
};

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

export interface HttpError {
  status: number;
  body: ErrorBody;
  /** Seconds, for the Retry-After header. */
  retryAfterS?: number;
}

/**
 * The HTTP answer for a domain error: {"error": {"code", "message", "field"?}}. The body's
 * code is the error's finer reason when it has one (409 version_mismatch,
 * operation_running, ...), else the code's HTTP name; an internal error says no more than
 * that (its message stays in the log).
 */
export function httpErrorOf(err: WharfError): HttpError {
  const { status, code } = HTTP[err.code];
  if (err.code === 'internal') return { status, body: { error: { code, message: 'internal error' } } };
  const body: ErrorBody = { error: { code: err.reason ?? code, message: err.message, ...(err.field ? { field: err.field } : {}) } };
  const retryAfterS = err.retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(err.retryAfterMs / 1000));
  return { status, body, ...(retryAfterS === undefined ? {} : { retryAfterS }) };
}
