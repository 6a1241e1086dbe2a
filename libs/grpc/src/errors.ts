import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

/**
 * A failure with a gRPC status. Handlers throw these; clients receive them back as
 * the same classes. Anything else thrown by a handler reaches the caller as INTERNAL
 * with a generic message, so internals never leak.
 */
export class GrpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends GrpcError {
  constructor(message: string) {
    super(status.INVALID_ARGUMENT, message);
  }
}
export class NotFoundError extends GrpcError {
  constructor(message: string) {
    super(status.NOT_FOUND, message);
  }
}
export class AlreadyExistsError extends GrpcError {
  constructor(message: string) {
    super(status.ALREADY_EXISTS, message);
  }
}
/** Optimistic concurrency lost: retrying with fresh state may succeed. */
export class ConflictError extends GrpcError {
  constructor(message: string) {
    super(status.ABORTED, message);
  }
}
export class FailedPreconditionError extends GrpcError {
  constructor(message: string) {
    super(status.FAILED_PRECONDITION, message);
  }
}
export class PermissionDeniedError extends GrpcError {
  constructor(message: string) {
    super(status.PERMISSION_DENIED, message);
  }
}
export class UnauthenticatedError extends GrpcError {
  constructor(message: string) {
    super(status.UNAUTHENTICATED, message);
  }
}
export class ResourceExhaustedError extends GrpcError {
  constructor(message: string) {
    super(status.RESOURCE_EXHAUSTED, message);
  }
}
export class UnavailableError extends GrpcError {
  constructor(message: string) {
    super(status.UNAVAILABLE, message);
  }
}
export class DeadlineExceededError extends GrpcError {
  constructor(message: string) {
    super(status.DEADLINE_EXCEEDED, message);
  }
}
export class CancelledError extends GrpcError {
  constructor(message: string) {
    super(status.CANCELLED, message);
  }
}
export class InternalError extends GrpcError {
  constructor(message: string) {
    super(status.INTERNAL, message);
  }
}

const byCode: Partial<Record<status, new (message: string) => GrpcError>> = {
  [status.INVALID_ARGUMENT]: InvalidArgumentError,
  [status.NOT_FOUND]: NotFoundError,
  [status.ALREADY_EXISTS]: AlreadyExistsError,
  [status.ABORTED]: ConflictError,
  [status.FAILED_PRECONDITION]: FailedPreconditionError,
  [status.PERMISSION_DENIED]: PermissionDeniedError,
  [status.UNAUTHENTICATED]: UnauthenticatedError,
  [status.RESOURCE_EXHAUSTED]: ResourceExhaustedError,
  [status.UNAVAILABLE]: UnavailableError,
  [status.DEADLINE_EXCEEDED]: DeadlineExceededError,
  [status.CANCELLED]: CancelledError,
  [status.INTERNAL]: InternalError,
};

/** What a server sends for a thrown value. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof GrpcError) {
    return { code: err.code, details: err.message, metadata: new Metadata() };
  }
  return { code: status.INTERNAL, details: 'internal error', metadata: new Metadata() };
}

/** What a client throws for a failed call: the typed class for the status code. */
export function fromServiceError(err: unknown): GrpcError {
  if (err instanceof GrpcError) return err;
  const e = err as Partial<ServiceError>;
  if (typeof e?.code === 'number') {
    const Ctor = byCode[e.code as status];
    const message = e.details || e.message || status[e.code];
    return Ctor ? new Ctor(message) : new GrpcError(e.code, message);
  }
  return new InternalError(err instanceof Error ? err.message : String(err));
}

export { status as GrpcStatus };
