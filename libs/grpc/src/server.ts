import type { DescService } from '@bufbuild/protobuf';
import {
  Server,
  type Metadata,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
  type sendUnaryData,
} from '@grpc/grpc-js';
import type { TransportSecurity } from '@wharf/pki';
import { once } from 'node:events';
import { accessInterceptor, PEER_IDENTITY_KEY } from './access-interceptor';
import { serverCredentials } from './credentials';
import { InvalidArgumentError } from '@wharf/errors';
import { toServiceError } from './errors';
import { METHOD_ACCESS } from './method-access';
import { PeerIdentities, type GrpcServerLogger } from './peer-identities';
import { toServiceDefinition, UndecodableRequest } from './service-definition';
import type { CallContext, ServiceImpl } from './types';

type AnyCall = { metadata: Metadata; getPeer(): string; on(event: 'cancelled', fn: () => void): unknown; cancelled?: boolean };
type AnyFn = (...args: unknown[]) => unknown;

/** grpc-js reports 'cancelled' also after a call completed; `done` ends the context first so that costs nothing. */
function contextOf(call: AnyCall, secure: boolean): CallContext & { done(): void } {
  const controller = new AbortController();
  let finished = false;
  call.on('cancelled', () => finished || controller.abort(new Error('call cancelled')));
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(call.metadata.getMap())) metadata[key] = String(value);
  // Set by the access interceptor from the certificate; without TLS it is whatever the caller wrote, so nothing.
  const identity = secure ? metadata[PEER_IDENTITY_KEY] : undefined;
  return { metadata, signal: controller.signal, peer: call.getPeer(), identity, done: () => void (finished = true) };
}

const invalid = (request: UndecodableRequest) => toServiceError(new InvalidArgumentError(request.message));

/** The request stream of a client-streaming or bidi call; a message that cannot be decoded ends it with INVALID_ARGUMENT. */
async function* decoded(requests: AsyncIterable<unknown>): AsyncGenerator<unknown> {
  for await (const request of requests) {
    if (request instanceof UndecodableRequest) throw new InvalidArgumentError(request.message);
    yield request;
  }
}

/** Writes an async iterable to a server stream, honouring back-pressure and cancellation. */
async function pipeOut(source: AsyncIterable<unknown>, call: { write(chunk: unknown): boolean }, signal: AbortSignal) {
  const iterator = source[Symbol.asyncIterator]();
  const stop = () => void iterator.return?.();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done || signal.aborted) break;
      if (!call.write(next.value)) await Promise.race([once(call as unknown as NodeJS.EventEmitter, 'drain'), once(signal, 'abort')]);
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

export interface GrpcServerOptions {
  /** Mutual TLS (callers must hold a certificate of our CA, and the method table applies) or insecure-dev. */
  security: TransportSecurity;
  /** Refused calls and refused TLS handshakes are logged here. */
  logger: GrpcServerLogger;
  maxReceiveMessageBytes?: number;
  /** Who may call which method (default: the data center's METHOD_ACCESS). */
  access?: Readonly<Record<string, readonly string[]>>;
}

/**
 * A grpc-js server that serves protobuf-es services. Handler errors are mapped to
 * status codes by toServiceError; a plain Error becomes INTERNAL. With mutual TLS each call
 * is admitted by the method table on the caller's certificate identity (see accessInterceptor).
 */
export class GrpcServer {
  private readonly server: Server;
  private readonly identities: PeerIdentities;
  private readonly secure: boolean;

  constructor(private readonly options: GrpcServerOptions) {
    this.secure = options.security.mode === 'mtls';
    this.identities = new PeerIdentities(options.logger);
    this.server = new Server({
      'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 8 * 1024 * 1024,
      interceptors: this.secure ? [accessInterceptor(options.access ?? METHOD_ACCESS, this.identities, options.logger)] : [],
    });
    if (this.secure) this.verifyConnections();
  }

  /**
   * Installs PeerIdentities on every TLS server grpc-js makes, before it listens. grpc-js has
   * no public hook for its TLS servers; its (private, 1.14 pinned) createHttp2Server is the one
   * place they are made. If a release renames it we refuse to serve rather than serve unverified.
   */
  private verifyConnections(): void {
    const server = this.server as unknown as { createHttp2Server?: (credentials: unknown) => NodeJS.EventEmitter };
    const make = server.createHttp2Server;
    if (typeof make !== 'function') throw new Error('@grpc/grpc-js changed: GrpcServer cannot verify client certificates with this version');
    server.createHttp2Server = (credentials: unknown) => {
      const http2Server = make.call(this.server, credentials);
      this.identities.watch(http2Server);
      return http2Server;
    };
  }

  add<S extends DescService>(service: S, impl: ServiceImpl<S>): this {
    const handlers: UntypedServiceImplementation = {};
    for (const method of service.methods) {
      const fn = (impl as Record<string, AnyFn>)[method.localName];
      if (typeof fn !== 'function') throw new Error(`${service.typeName}.${method.name} has no implementation`);
      const handler = fn.bind(impl);
      switch (method.methodKind) {
        case 'unary':
          handlers[method.localName] = (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => {
            if (call.request instanceof UndecodableRequest) return cb(invalid(call.request));
            const ctx = contextOf(call, this.secure);
            (handler(call.request, ctx) as Promise<unknown>).then(
              (res) => (ctx.done(), cb(null, res)),
              (err) => (ctx.done(), cb(toServiceError(err))),
            );
          };
          break;
        case 'server_streaming':
          handlers[method.localName] = (call: ServerWritableStream<unknown, unknown>) => {
            if (call.request instanceof UndecodableRequest) return void call.emit('error', invalid(call.request));
            const ctx = contextOf(call, this.secure);
            pipeOut(handler(call.request, ctx) as AsyncIterable<unknown>, call, ctx.signal).then(
              () => call.end(),
              (err) => (ctx.signal.aborted ? undefined : call.destroy(toServiceError(err) as Error)),
            );
          };
          break;
        case 'client_streaming':
          handlers[method.localName] = (call: ServerReadableStream<unknown, unknown>, cb: sendUnaryData<unknown>) => {
            (handler(decoded(call), contextOf(call, this.secure)) as Promise<unknown>).then(
              (res) => cb(null, res),
              (err) => cb(toServiceError(err)),
            );
          };
          break;
        case 'bidi_streaming':
          handlers[method.localName] = (call: ServerDuplexStream<unknown, unknown>) => {
            const ctx = contextOf(call, this.secure);
            pipeOut(handler(decoded(call), ctx) as AsyncIterable<unknown>, call, ctx.signal).then(
              () => call.end(),
              (err) => (ctx.signal.aborted ? undefined : call.destroy(toServiceError(err) as Error)),
            );
          };
          break;
      }
    }
    this.server.addService(toServiceDefinition(service), handlers);
    return this;
  }

  /** Binds with the transport security it was made with and returns the port. */
  async listen(address: string): Promise<number> {
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(address, serverCredentials(this.options.security), (err, port) => (err ? reject(err) : resolve(port)));
    });
    if (!this.secure) this.options.logger.warn({ address }, 'gRPC server WITHOUT TLS (WHARF_INSECURE_DEV): every caller may call every method');
    return port;
  }

  /** Stops accepting calls, waits up to graceMs for running ones, then cuts the rest. */
  async shutdown(graceMs = 5000): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
