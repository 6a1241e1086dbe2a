import { invalidArgument } from '@wharf/errors';
import type { z } from 'zod';

/** Parses a body with a zod schema; the 400 names the first offending field and why. */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length ? issue.path.join('.') : 'body';
  let reason = issue.message;
  if (issue.code === 'unrecognized_keys') reason = `unknown field(s): ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && value === undefined) reason = 'a JSON body is required';
  throw invalidArgument(field, reason);
}

/**
 * Parses a query string with the route's schema (a strict z.object): a parameter the
 * route does not take is refused like a bad value, the 400 naming the parameter.
 */
export function parseQuery<S extends z.ZodObject>(schema: S, query: unknown): z.infer<S> {
  const result = schema.safeParse(query ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(schema.shape);
    throw invalidArgument(issue.keys[0], `unknown query parameter; this route takes ${known.length ? known.join(', ') : 'none'}`);
  }
  throw invalidArgument(issue.path.length ? issue.path.join('.') : 'query', issue.message);
}

/** If-Match: "N", W/"N" or N. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header === '*') return undefined;
  const m = header.trim().match(/^(?:W\/)?"?(\d{1,15})"?$/);
  if (!m) throw invalidArgument('If-Match', 'must be an ETag this API returned, e.g. "3"');
  return Number(m[1]);
}

/** Path parameters are ids made of DNS-1123 labels joined by dots, or event ids. */
export function pathId(value: string, what: string): string {
  if (!/^[a-z0-9][a-z0-9.-]{0,254}$/.test(value) && !/^evt-[0-9a-f-]{36}$/.test(value) && !/^[A-Za-z0-9]{16}$/.test(value))
    throw invalidArgument(what, 'is not a valid id');
  return value;
}

/** Version ids as the builder records them (operationSchema's version_id has the same shape). */
export function versionId(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(value)) throw invalidArgument('version', 'is not a valid version id');
  return value;
}
