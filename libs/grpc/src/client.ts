import type { DescService } from '@bufbuild/protobuf';
import { Client, Metadata, type CallOptions as GrpcCallOptions, type ClientWritableStream } from '@grpc/grpc-js';
import { loopbackServerName, type TransportSecurity } from '@wharf/pki';
import { channelCredentials } from './credentials';
import { fromServiceError } from './errors';
import { SERVED_BY } from './method-access';
import { methodPath, toServiceDefinition } from './service-definition';
import type { CallOptions, ServiceClient } from './types';

function metadataOf(options?: CallOptions): Metadata {
  const md = new Metadata();
  for (const [k, v] of Object.entries(options?.metadata ?? {})) md.set(k, v);
  return md;
}

function grpcOptions(options?: CallOptions): GrpcCallOptions {
  return options?.timeoutMs ? { deadline: Date.now() + options.timeoutMs } : {};
}

function bindCancel(call: { cancel(): void }, signal?: AbortSignal): () => void {
  if (!signal) return () => undefined;
  if (signal.aborted) {
    call.cancel();
    return () => undefined;
  }
  const onAbort = () => call.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

async function* readAll<T>(stream: AsyncIterable<T>, cleanup: () => void): AsyncGenerator<T> {
  try {
    for await (const item of stream) yield item;
  } catch (err) {
    throw fromServiceError(err);
  } finally {
    cleanup();
  }
}

async function writeAll(source: AsyncIterable<unknown>, call: ClientWritableStream<unknown>): Promise<void> {
  try {
    for await (const item of source) {
      if (!call.write(item)) await new Promise((resolve) => call.once('drain', resolve));
    }
    call.end();
  } catch (err) {
    call.cancel();
    throw err;
  }
}

export interface ClientOptions {
  /** Mutual TLS with our certificate (the server must be the identity that serves the service), or insecure-dev. */
  security: TransportSecurity;
  maxReceiveMessageBytes?: number;
}

/**
 * A typed client for a protobuf-es service: unary and client-streaming methods return
 * promises, server-streaming and bidi methods async iterables. Failed calls throw the
 * typed @wharf/errors class for their status code.
 */
export function createClient<S extends DescService>(service: S, address: string, options: ClientOptions): ServiceClient<S> {
  const definition = toServiceDefinition(service);
  const serverName = options.security.mode === 'mtls' ? loopbackServerName(address) : undefined;
  const client = new Client(address, channelCredentials(options.security, SERVED_BY[service.typeName]), {
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 8 * 1024 * 1024,
    ...(serverName ? { 'grpc.ssl_target_name_override': serverName } : {}),
  });
  const out: Record<string, unknown> = { close: () => client.close() };
  for (const method of service.methods) {
    const def = definition[method.localName];
    const path = methodPath(service, method);
    const ser = def.requestSerialize as (v: unknown) => Buffer;
    const de = def.responseDeserialize as (b: Buffer) => unknown;
    switch (method.methodKind) {
      case 'unary':
        out[method.localName] = (request: unknown, opts?: CallOptions) =>
          new Promise((resolve, reject) => {
            let cleanup = () => undefined as void;
            const call = client.makeUnaryRequest(path, ser, de, request, metadataOf(opts), grpcOptions(opts), (err, res) => {
              cleanup();
              if (err) reject(fromServiceError(err));
              else resolve(res);
            });
            cleanup = bindCancel(call, opts?.signal);
          });
        break;
      case 'server_streaming':
        out[method.localName] = (request: unknown, opts?: CallOptions) => {
          const call = client.makeServerStreamRequest(path, ser, de, request, metadataOf(opts), grpcOptions(opts));
          return readAll(call, bindCancel(call, opts?.signal));
        };
        break;
      case 'client_streaming':
        out[method.localName] = (requests: AsyncIterable<unknown>, opts?: CallOptions) =>
          new Promise((resolve, reject) => {
            let cleanup = () => undefined as void;
            const call = client.makeClientStreamRequest(path, ser, de, metadataOf(opts), grpcOptions(opts), (err, res) => {
              cleanup();
              if (err) reject(fromServiceError(err));
              else resolve(res);
            });
            cleanup = bindCancel(call, opts?.signal);
            writeAll(requests, call).catch(reject);
          });
        break;
      case 'bidi_streaming':
        out[method.localName] = (requests: AsyncIterable<unknown>, opts?: CallOptions) => {
          const call = client.makeBidiStreamRequest(path, ser, de, metadataOf(opts), grpcOptions(opts));
          writeAll(requests, call).catch(() => call.cancel());
          return readAll(call, bindCancel(call, opts?.signal));
        };
        break;
    }
  }
  return out as ServiceClient<S>;
}
