/** The side effects the console's use cases need, each behind an interface (adapters/ implement them). */

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
}

/** Seals data-center tokens at rest; `context` binds a ciphertext to its data center and user. */
export interface TokenSealer {
  seal(token: string, context: string): Uint8Array;
  open(sealed: Uint8Array, context: string): string;
}

export interface SessionRecord {
  /** sha256 of the session id (hex): the id itself is only ever in the client's cookie. */
  idHash: string;
  user: string;
  /** The synchronizer token every change must carry (X-CSRF-Token) when the session rides on a cookie. */
  csrf: string;
  createdAtMs: number;
  expiresAtMs: number;
}

export interface SessionStore {
  put(session: SessionRecord): Promise<void>;
  get(idHash: string): Promise<SessionRecord | undefined>;
  delete(idHash: string): Promise<void>;
}

/** A data center as the console reaches it. */
export interface DcTarget {
  id: string;
  name: string;
  apiUrl: string;
}

export interface DcResponse {
  status: number;
  body: unknown;
  /** The answer's ETag (optimistic concurrency of the object), when it has one. */
  etag?: string;
}

export type DcStatus = 'ok' | 'unreachable';

export interface DcHealth {
  status: DcStatus;
  /** Why it is unreachable (timeout, refused, ...). */
  message: string | null;
  /** When the status last changed. */
  sinceMs: number | null;
  /** While backing off: when the next call will be tried. */
  retryAtMs: number | null;
}

/**
 * Calls to data centers' api-gateways, each bounded by a timeout and backed off while the
 * data center is down. Throws DataCenterUnreachableError when it cannot be reached (at once
 * while backing off); an HTTP answer, even an error status, is returned as it came.
 */
export interface DataCenterApi {
  call(dc: DcTarget, token: string | null, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<DcResponse>;
  health(dcId: string): DcHealth;
  forget(dcId: string): void;
}

export class DataCenterUnreachableError extends Error {
  constructor(
    readonly dcId: string,
    message: string,
  ) {
    super(message);
  }
}
