import { create, fromBinary, toBinary, type DescFile, type Message, type Registry, createRegistry } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { EventStoreInputError } from './errors';
import type { RecordedEvent } from './types';

/** Every file of wharf.events.v1: the default registry of payload types. */
export function eventsRegistry(...extra: DescFile[]): Registry {
  const files = Object.values(eventsV1).filter((v): v is DescFile => typeof v === 'object' && v !== null && (v as DescFile).kind === 'file');
  return createRegistry(...files, ...extra);
}

const STREAM = /^[a-z][a-z0-9-]{0,30}\/[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

/** Streams are "<kind>/<id>"; the name becomes part of an etcd key, so it is kept to safe characters. */
export function assertStreamName(stream: string): void {
  if (!STREAM.test(stream)) {
    throw new EventStoreInputError(`stream ${JSON.stringify(stream)} must look like kind/id (kind: lowercase a-z0-9-, id: A-Za-z0-9._:- up to 200 chars)`);
  }
}

export function encodeEnvelope(
  registry: Registry,
  e: { stream: string; version: number; message: Message; timeMs: number; eventId: string; actor: string },
): Uint8Array {
  const desc = registry.getMessage(e.message.$typeName);
  if (!desc) throw new EventStoreInputError(`event type ${e.message.$typeName} is not in the event store's registry`);
  return toBinary(
    eventsV1.EventEnvelopeSchema,
    create(eventsV1.EventEnvelopeSchema, {
      stream: e.stream,
      version: BigInt(e.version),
      type: desc.typeName,
      payload: toBinary(desc, e.message),
      timeMs: BigInt(e.timeMs),
      eventId: e.eventId,
      actor: e.actor,
    }),
  );
}

export function decodeEnvelope(registry: Registry, bytes: Uint8Array, position: string): RecordedEvent {
  const env = fromBinary(eventsV1.EventEnvelopeSchema, bytes);
  const desc = registry.getMessage(env.type);
  if (!desc) throw new EventStoreInputError(`stored event ${env.stream}@${env.version} has type ${env.type}, unknown to this registry`);
  return {
    stream: env.stream,
    version: Number(env.version),
    type: env.type,
    message: fromBinary(desc, env.payload),
    timeMs: Number(env.timeMs),
    eventId: env.eventId,
    actor: env.actor,
    position,
  };
}
