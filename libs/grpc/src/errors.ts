import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { errorOf, InternalError, WharfError, type ErrorCode } from '@wharf/errors';

// The edge between Wharf's error vocabulary (@wharf/errors) and gRPC status codes: handlers
// throw WharfErrors, callers get the same classes back. Anything else a handler throws
// reaches the caller as INTERNAL with a generic message, so internals never leak.

const statusOf: Record<ErrorCode, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  conflict: status.ABORTED,
  failed_precondition: status.FAILED_PRECONDITION,
  permission_denied: status.PERMISSION_DENIED,
  unauthenticated: status.UNAUTHENTICATED,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
  cancelled: status.CANCELLED,
  internal: status.INTERNAL,
};

const codeOf = new Map<status, ErrorCode>(Object.entries(statusOf).map(([code, s]) => [s, code as ErrorCode]));

// Field and reason travel in trailing metadata so a peer rebuilds the same error.
const FIELD = 'wharf-error-field';
const REASON = 'wharf-error-reason';
const RETRY_AFTER = 'wharf-retry-after-ms';

/** What a server sends for a thrown value. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const metadata = new Metadata();
  if (!(err instanceof WharfError)) return { code: status.INTERNAL, details: 'internal error', metadata };
  if (err.field) metadata.set(FIELD, err.field);
  if (err.reason) metadata.set(REASON, err.reason);
  if (err.retryAfterMs !== undefined) metadata.set(RETRY_AFTER, String(err.retryAfterMs));
  return { code: statusOf[err.code], details: err.message, metadata };
}

/** What a client throws for a failed call: the typed class for the status code. */
export function fromServiceError(err: unknown): WharfError {
  if (err instanceof WharfError) return err;
  const e = err as Partial<ServiceError>;
  if (typeof e?.code === 'number') {
    const message = e.details || e.message || status[e.code];
    const md = e.metadata instanceof Metadata ? e.metadata : undefined;
    const first = (key: string) => {
      const v = md?.get(key)[0];
      return v === undefined ? undefined : String(v);
    };
    const retry = first(RETRY_AFTER);
    return errorOf(codeOf.get(e.code) ?? 'internal', message, {
      field: first(FIELD),
      reason: first(REASON),
      retryAfterMs: retry === undefined ? undefined : Number(retry),
    });
  }
  return new InternalError(err instanceof Error ? err.message : String(err));
}

export { status as GrpcStatus };
