import type { DescService } from '@bufbuild/protobuf';
import {
  Server,
  ServerCredentials,
  type Metadata,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { once } from 'node:events';
import { toServiceError } from './errors';
import { toServiceDefinition } from './service-definition';
import type { CallContext, ServiceImpl } from './types';

type AnyCall = { metadata: Metadata; getPeer(): string; on(event: 'cancelled', fn: () => void): unknown; cancelled?: boolean };
type AnyFn = (...args: unknown[]) => unknown;

/** grpc-js reports 'cancelled' also after a call completed; `done` ends the context first so that costs nothing. */
function contextOf(call: AnyCall): CallContext & { done(): void } {
  const controller = new AbortController();
  let finished = false;
  call.on('cancelled', () => finished || controller.abort(new Error('call cancelled')));
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(call.metadata.getMap())) metadata[key] = String(value);
  return { metadata, signal: controller.signal, peer: call.getPeer(), done: () => void (finished = true) };
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

/**
 * A grpc-js server that serves protobuf-es services. Handler errors are mapped to
 * status codes by toServiceError; a plain Error becomes INTERNAL.
 */
export class GrpcServer {
  private readonly server: Server;

  constructor(options: { maxReceiveMessageBytes?: number } = {}) {
    this.server = new Server({
      'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 8 * 1024 * 1024,
    });
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
            const ctx = contextOf(call);
            (handler(call.request, ctx) as Promise<unknown>).then(
              (res) => (ctx.done(), cb(null, res)),
              (err) => (ctx.done(), cb(toServiceError(err))),
            );
          };
          break;
        case 'server_streaming':
          handlers[method.localName] = (call: ServerWritableStream<unknown, unknown>) => {
            const ctx = contextOf(call);
            pipeOut(handler(call.request, ctx) as AsyncIterable<unknown>, call, ctx.signal).then(
              () => call.end(),
              (err) => (ctx.signal.aborted ? undefined : call.destroy(toServiceError(err) as Error)),
            );
          };
          break;
        case 'client_streaming':
          handlers[method.localName] = (call: ServerReadableStream<unknown, unknown>, cb: sendUnaryData<unknown>) => {
            (handler(call, contextOf(call)) as Promise<unknown>).then(
              (res) => cb(null, res),
              (err) => cb(toServiceError(err)),
            );
          };
          break;
        case 'bidi_streaming':
          handlers[method.localName] = (call: ServerDuplexStream<unknown, unknown>) => {
            const ctx = contextOf(call);
            pipeOut(handler(call, ctx) as AsyncIterable<unknown>, call, ctx.signal).then(
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

  /** Binds (insecure: services talk on loopback or a private network) and returns the port. */
  listen(address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
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
