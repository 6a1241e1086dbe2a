/**
 * Who may hold a certificate of the data center's CA. A service's identity is its name,
 * written in its certificate twice: as the subject's CN and as the SAN URI
 * spiffe://wharf/<name> (the URI is what servers read; both must agree).
 */
export const SERVICE_IDENTITIES = ['api-gateway', 'mq', 'event-log', 'builder', 'app-manager', 'lb-manager', 'node-manager', 'console'] as const;

/** etcd's own server certificate (it serves; it never calls a Wharf service). */
export const ETCD_IDENTITY = 'etcd';

/** The operator's client certificate: etcdctl, and the read-only operator calls of the method table. */
export const ADMIN_IDENTITY = 'admin';

export type ServiceIdentity = (typeof SERVICE_IDENTITIES)[number];
export type Identity = ServiceIdentity | typeof ETCD_IDENTITY | typeof ADMIN_IDENTITY;

/** Every identity `npm run up` and the test harness issue a certificate for. */
export const ALL_IDENTITIES: readonly Identity[] = [...SERVICE_IDENTITIES, ETCD_IDENTITY, ADMIN_IDENTITY];

export const IDENTITY_URI_PREFIX = 'spiffe://wharf/';

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

export function isIdentityName(name: string): boolean {
  return NAME.test(name);
}

/**
 * Node warns (DEP0123) when a TLS client names its server by IP address, which grpc-js does
 * for a target like 127.0.0.1:PORT. For loopback targets a client names the server
 * 'localhost' instead: every certificate of the CA has that name, and loopback is loopback.
 */
export function loopbackServerName(hostPort: string): string | undefined {
  return /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)(:\d+)?$/.test(hostPort) ? 'localhost' : undefined;
}

export function identityUri(name: string): string {
  return `${IDENTITY_URI_PREFIX}${name}`;
}
