import { IDENTITY_URI_PREFIX, isIdentityName } from './identities';

/** The parts of node's tls.PeerCertificate (or what getAuthContext() returns) that name the peer. */
export interface NamedCertificate {
  subject?: { CN?: string | string[] } | null;
  /** Node's rendering, e.g. "URI:spiffe://wharf/mq, DNS:localhost, IP Address:127.0.0.1". */
  subjectaltname?: string;
}

/**
 * The Wharf identity a certificate proves, or undefined when it proves none: exactly one
 * spiffe://wharf/<name> SAN URI, and a CN that is absent or the same name. A certificate
 * that says two different things is no identity (the CA never issues one).
 */
export function identityOfCertificate(cert: NamedCertificate | undefined | null): string | undefined {
  if (!cert) return undefined;
  const uris = (cert.subjectaltname ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith(`URI:${IDENTITY_URI_PREFIX}`))
    .map((entry) => entry.slice(`URI:${IDENTITY_URI_PREFIX}`.length));
  if (uris.length !== 1 || !isIdentityName(uris[0])) return undefined;
  const cn = cert.subject?.CN;
  if (cn !== undefined && cn !== uris[0]) return undefined;
  return uris[0];
}
