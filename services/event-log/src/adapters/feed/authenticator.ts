import type { Principal } from '@wharf/identity';

/** Who may read what: the same tokens and tenant rights as the REST API. */
export interface Authenticator {
  /** A bearer token (or "Bearer ..." header value) -> the caller, or undefined. */
  authenticate(token: string | undefined): Principal | undefined;
  /** May the caller read this tenant's operations and logs? false for unknown tenants. */
  canRead(principal: Principal, tenantId: string): boolean;
}
