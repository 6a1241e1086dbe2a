import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type DescService } from '@bufbuild/protobuf';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/** gRPC path of a method: /<package.Service>/<Method>. */
export function methodPath(service: DescService, method: DescMethod): string {
  return `/${service.typeName}/${method.name}`;
}

function serializer(schema: DescMessage) {
  // create() returns an existing message as is, and fills defaults into an init object.
  return (value: object): Buffer => Buffer.from(toBinary(schema, create(schema, value as never)));
}

function deserializer(schema: DescMessage) {
  return (bytes: Buffer) => fromBinary(schema, bytes);
}

/**
 * What a server's request deserializer returns for bytes that are no valid message. grpc-js
 * answers a deserializer that throws with INTERNAL ("Error deserializing request"), but a
 * request the server cannot decode is the caller's fault: the handler wrappers of GrpcServer
 * answer this marker with INVALID_ARGUMENT naming the method and the message type.
 */
export class UndecodableRequest {
  constructor(
    readonly method: string,
    readonly messageType: string,
    readonly reason: string,
  ) {}

  get message(): string {
    return `${this.method}: the request is not a valid ${this.messageType} (${this.reason})`;
  }
}

function requestDeserializer(path: string, schema: DescMessage) {
  return (bytes: Buffer): object => {
    try {
      return fromBinary(schema, bytes);
    } catch (err) {
      return new UndecodableRequest(path, schema.typeName, err instanceof Error ? err.message : String(err));
    }
  };
}

/** A grpc-js service definition built from a protobuf-es service descriptor. */
export function toServiceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<object, object>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: methodPath(service, method),
      originalName: method.localName,
      requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: serializer(method.input),
      requestDeserialize: requestDeserializer(methodPath(service, method), method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
    };
  }
  return definition as ServiceDefinition;
}
