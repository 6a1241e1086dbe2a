/**
 * The one error vocabulary of Wharf's domain code. Domain and library code throws these;
 * only the edges translate them: libs/grpc to gRPC status codes, the HTTP layer to status
 * codes and JSON bodies, socket.io handlers to `{ ok: false, error }` acks. Anything else
 * thrown is a bug and reaches callers as `internal` with a generic message.
 */
export const ERROR_CODES = [
  'invalid_argument',
  'not_found',
  'already_exists',
  'conflict',
  'failed_precondition',
  'permission_denied',
  'unauthenticated',
  'resource_exhausted',
  'unavailable',
  'deadline_exceeded',
  'cancelled',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorDetails {
  /** The input field at fault (invalid_argument), e.g. `replicas` or `body.env[2].name`. */
  field?: string;
  /** A finer, stable machine-readable reason within the code, e.g. `version_mismatch`. */
  reason?: string;
  /** When retrying may succeed (unavailable, resource_exhausted): how long to wait. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class WharfError extends Error {
  readonly field?: string;
  readonly reason?: string;
  readonly retryAfterMs?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.field = details.field;
    this.reason = details.reason;
    this.retryAfterMs = details.retryAfterMs;
  }
}

export class InvalidArgumentError extends WharfError {
  constructor(message: string, details?: ErrorDetails) {
    super('invalid_argument', message, details);
  }
}
export class NotFoundError extends WharfError {
  constructor(message: string, details?: ErrorDetails) {
    super('not_found', message, details);
  }
}
export class AlreadyExistsError extends WharfError {
  constructor(message: string, details?: ErrorDetails) {
    super('already_exists', message, details);
  }
}
/** Optimistic concurrency lost or a competing action in progress: retrying with fresh state may succeed. */
export class ConflictError extends WharfError {
  constructor(message: string, details?: ErrorDetails) {
    super('conflict', message, details);
  }
}
export class FailedPreconditionError extends WharfError {
  constructor(message: string, details?: ErrorDetails) {
    super('failed_precondition', message, details);
  }
}
export class PermissionDeniedError extends WharfError {
  constructor(message: string, details?: ErrorDetails) {
    super('permission_denied', message, details);
  }
}
export class UnauthenticatedError extends WharfError {
  constructor(message: string, details?: ErrorDetails) {
    super('unauthenticated', message, details);
  }
}
export class ResourceExhaustedError extends WharfError {
  constructor(message: string, details?: ErrorDetails) {
    super('resource_exhausted', message, details);
  }
}
/** A dependency (etcd, mq, event-log, ...) cannot be reached: the caller's request was fine. */
export class UnavailableError extends WharfError {
  constructor(message: string, details?: ErrorDetails) {
    super('unavailable', message, details);
  }
}
export class DeadlineExceededError extends WharfError {
  constructor(message: string, details?: ErrorDetails) {
    super('deadline_exceeded', message, details);
  }
}
export class CancelledError extends WharfError {
  constructor(message: string, details?: ErrorDetails) {
    super('cancelled', message, details);
  }
}
export class InternalError extends WharfError {
  constructor(message: string, details?: ErrorDetails) {
    super('internal', message, details);
  }
}

const classes: Record<ErrorCode, new (message: string, details?: ErrorDetails) => WharfError> = {
  invalid_argument: InvalidArgumentError,
  not_found: NotFoundError,
  already_exists: AlreadyExistsError,
  conflict: ConflictError,
  failed_precondition: FailedPreconditionError,
  permission_denied: PermissionDeniedError,
  unauthenticated: UnauthenticatedError,
  resource_exhausted: ResourceExhaustedError,
  unavailable: UnavailableError,
  deadline_exceeded: DeadlineExceededError,
  cancelled: CancelledError,
  internal: InternalError,
};

/** The typed class for a code (used by the edges to rebuild an error received from a peer). */
export function errorOf(code: ErrorCode, message: string, details?: ErrorDetails): WharfError {
  return new classes[code](message, details);
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** `field: reason`, with the field kept for the edge (HTTP `error.field`, socket.io acks). */
export function invalidArgument(field: string, reason: string): InvalidArgumentError {
  return new InvalidArgumentError(`${field}: ${reason}`, { field });
}
