import { credentials, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { identityOfCertificate, type TlsMaterial, type TransportSecurity } from '@wharf/pki';
import { checkServerIdentity as checkHostName, type PeerCertificate } from 'node:tls';

/**
 * TLS that asks every client for a certificate but leaves the verdict to PeerIdentities (it
 * logs the reason, then drops the connection): Node's own rejection is silent. Only a
 * GrpcServer, which installs PeerIdentities on every TLS server it makes, may use these.
 */
class ClientCheckedServerCredentials extends ServerCredentials {
  constructor(tls: TlsMaterial) {
    super({ requestCert: true, rejectUnauthorized: false }, { ca: tls.ca, cert: tls.cert, key: tls.key });
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

export function serverCredentials(security: TransportSecurity): ServerCredentials {
  return security.mode === 'insecure-dev' ? ServerCredentials.createInsecure() : new ClientCheckedServerCredentials(security.tls);
}

// grpc-js shares connections between clients whose credentials are equal, and compares
// checkServerIdentity by reference: one credentials object per (material, expected server).
const cache = new WeakMap<TlsMaterial, Map<string, ChannelCredentials>>();
let insecure: ChannelCredentials | undefined;

/**
 * Client credentials: our certificate for the server to check, the CA for checking the
 * server, and beyond the host name, the server's identity (`expectServer`, e.g. "mq").
 */
export function channelCredentials(security: TransportSecurity, expectServer: string | undefined): ChannelCredentials {
  if (security.mode === 'insecure-dev') return (insecure ??= credentials.createInsecure());
  let byServer = cache.get(security.tls);
  if (!byServer) cache.set(security.tls, (byServer = new Map()));
  const key = expectServer ?? '';
  let creds = byServer.get(key);
  if (!creds) {
    creds = credentials.createSsl(security.tls.ca, security.tls.key, security.tls.cert, {
      checkServerIdentity: (host: string, cert: PeerCertificate) => {
        const hostError = checkHostName(host, cert);
        if (hostError) return hostError;
        const identity = identityOfCertificate(cert);
        if (expectServer && identity !== expectServer) {
          return new Error(`the server at ${host} is ${identity ?? 'no Wharf identity'}, not ${expectServer}: refusing to talk to it`);
        }
        return undefined;
      },
    });
    byServer.set(key, creds);
  }
  return creds;
}
