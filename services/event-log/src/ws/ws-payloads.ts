import { invalidArgument, type InvalidArgumentError } from '@wharf/errors';
import { z } from 'zod';
import { EVENT_ID } from '../domain/identifiers';

/**
 * The socket.io events clients may send and the payload each takes, checked at the boundary:
 * a payload that is not exactly what the event takes is invalid_argument naming the field
 * (a seq is a JSON number, never "5", null or true).
 */
export const WS_EVENTS = ['subscribe', 'unsubscribe', 'logs.subscribe', 'logs.unsubscribe'] as const;
export type WsEvent = (typeof WS_EVENTS)[number];

const id = z.string().regex(EVENT_ID);
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A payload's schema and, for messages, what each field must be. */
interface PayloadSpec<T> {
  schema: z.ZodType<T>;
  fields: Record<string, string>;
}

export const SUBSCRIBE: PayloadSpec<{ event_id: string; after_seq?: number }> = {
  schema: z.strictObject({ event_id: id, after_seq: seq.optional() }),
  fields: { event_id: `an event id matching ${EVENT_ID.source}`, after_seq: 'a non-negative integer (the last seq received), or absent for 0' },
};

export const UNSUBSCRIBE: PayloadSpec<{ event_id: string }> = {
  schema: z.strictObject({ event_id: id }),
  fields: { event_id: `an event id matching ${EVENT_ID.source}` },
};

export const LOGS_SUBSCRIBE: PayloadSpec<{ component_id: string; tail?: number }> = {
  schema: z.strictObject({ component_id: id, tail: z.number().int().min(0).max(10_000).optional() }),
  fields: { component_id: `a component id matching ${EVENT_ID.source}`, tail: 'an integer 0-10000 (lines of history), or absent for 100' },
};

export const LOGS_UNSUBSCRIBE: PayloadSpec<{ component_id: string }> = {
  schema: z.strictObject({ component_id: id }),
  fields: { component_id: `a component id matching ${EVENT_ID.source}` },
};

/** The payload as its event takes it, or an InvalidArgumentError naming the field at fault. */
export function parsePayload<T>(spec: PayloadSpec<T>, body: unknown): T {
  const parsed = spec.schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const names = Object.keys(spec.fields);
  const issue = parsed.error.issues[0];
  if (issue.code === 'unrecognized_keys') return fail(invalidArgument(String(issue.keys[0]), `unknown field; the payload takes ${names.join(', ')}`));
  const field = issue.path.length ? String(issue.path[0]) : undefined;
  if (field === undefined || !(field in spec.fields))
    return fail(invalidArgument('payload', `must be an object { ${names.join(', ')} }, got ${describe(body)}`));
  return fail(invalidArgument(field, `must be ${spec.fields[field]}, got ${describe((body as Record<string, unknown>)[field])}`));
}

/** An unknown event name: the error lists the known ones. */
export function unknownEvent(name: unknown): InvalidArgumentError {
  return invalidArgument('event', `unknown event ${describe(name)}; known events: ${WS_EVENTS.join(', ')}`);
}

function fail(err: Error): never {
  throw err;
}

/** A short, safe rendering of what the client sent. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
