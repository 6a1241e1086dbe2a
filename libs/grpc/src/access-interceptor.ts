import { Metadata, ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import type { GrpcServerLogger, PeerIdentities } from './peer-identities';

/** Metadata key under which a handler finds the caller's proven identity (whatever the caller sent under it is dropped). */
export const PEER_IDENTITY_KEY = 'x-wharf-peer-identity';

/**
 * Admits a call only when the method's line in the table names the caller's identity;
 * otherwise answers PERMISSION_DENIED naming both, and logs it. Runs on the call's metadata,
 * before any request message is read or any handler starts.
 */
export function accessInterceptor(table: Readonly<Record<string, readonly string[]>>, identities: PeerIdentities, logger: GrpcServerLogger): ServerInterceptor {
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            const connection = identities.of(call);
            const identity = connection?.identity;
            if (identity && table[method.path]?.includes(identity)) {
              metadata.remove(PEER_IDENTITY_KEY);
              metadata.set(PEER_IDENTITY_KEY, identity);
              pass(metadata);
              return;
            }
            if (!connection) {
              logger.warn({ method: method.path, peer: call.getPeer() }, 'gRPC call refused: connection not verified');
              call.sendStatus({
                code: status.UNAUTHENTICATED,
                details: `${method.path}: this connection's certificate was not verified`,
                metadata: new Metadata(),
              });
              return;
            }
            const who = identity ?? 'a certificate with no Wharf identity';
            const allowed = table[method.path];
            logger.warn({ identity: identity ?? null, method: method.path, peer: call.getPeer() }, 'gRPC call refused: identity not allowed');
            call.sendStatus({
              code: status.PERMISSION_DENIED,
              details: `${who} may not call ${method.path}${allowed ? ` (allowed: ${allowed.join(', ')})` : ' (no identity may: it is not in the method table)'}`,
              metadata: new Metadata(),
            });
          },
        }),
    });
}
