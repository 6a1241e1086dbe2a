import type { ServerInterceptingCallInterface } from '@grpc/grpc-js';
import { identityOfCertificate } from '@wharf/pki';
import type { TLSSocket } from 'node:tls';

/** What GrpcServer logs through (a pino logger fits). */
export interface GrpcServerLogger {
  warn(fields: object, message: string): void;
}

interface Connection {
  socket: TLSSocket;
  identity: string | undefined;
}

const key = (remoteAddress?: string, remotePort?: number, localAddress?: string, localPort?: number) =>
  `${remoteAddress}|${remotePort}|${localAddress}|${localPort}`;

/**
 * Verifies each TLS connection once, when its handshake completes, and remembers the
 * identity its certificate proves.
 *
 * Why here and not in the TLS stack alone: Node, told to reject unauthorized clients, drops
 * a connection with a certificate from another CA or an expired one silently (no event, no
 * reason), so the server could not log who was refused. So the TLS server requests a
 * certificate but leaves the decision to `check`, which logs the reason and destroys the
 * socket in the same turn the handshake completed, before a byte of HTTP/2 is read from it.
 *
 * Why once per connection: grpc-js's getAuthContext() calls getPeerCertificate(), which
 * parses the whole certificate into an object, on every call (5-12 % of a busy server's
 * calls/s). A call finds its connection by the address pair (public getConnectionInfo());
 * two live connections never share one, and a connection reusing the pair of a dead one
 * replaces its entry at its own handshake, before it can send a call. A call on a connection
 * that was never verified here is refused (fail closed).
 */
export class PeerIdentities {
  private readonly connections = new Map<string, Connection>();

  constructor(private readonly logger: GrpcServerLogger) {}

  /** Called for each TLS server grpc-js makes, before it listens. */
  watch(server: NodeJS.EventEmitter): void {
    server.on('secureConnection', (socket: TLSSocket) => this.check(socket));
  }

  private check(socket: TLSSocket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const cert = socket.getPeerCertificate();
    if (!socket.authorized) {
      const claimed = cert?.raw ? identityOfCertificate(cert) : undefined;
      const reason = cert?.raw ? String(socket.authorizationError) : 'no client certificate';
      this.logger.warn({ peer, reason, claimed: claimed ?? null }, 'gRPC TLS connection refused');
      socket.destroy();
      return;
    }
    const k = key(socket.remoteAddress, socket.remotePort, socket.localAddress, socket.localPort);
    const connection = { socket, identity: identityOfCertificate(cert) };
    this.connections.set(k, connection);
    socket.once('close', () => {
      if (this.connections.get(k) === connection) this.connections.delete(k);
    });
  }

  get size(): number {
    return this.connections.size;
  }

  /** The call's connection: unknown (never verified), or verified with the identity it proves (if any). */
  of(call: ServerInterceptingCallInterface): { identity: string | undefined } | undefined {
    const info = call.getConnectionInfo();
    return this.connections.get(key(info.remoteAddress, info.remotePort, info.localAddress, info.localPort));
  }
}
