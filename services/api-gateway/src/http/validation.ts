import type { z } from 'zod';
import { ApiError, badRequest } from '../domain/errors';

/** Parses a body or query with a zod schema; the 400 names the first offending field and why. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query'): z.infer<S> {
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length ? issue.path.join('.') : where;
  let reason = issue.message;
  if (issue.code === 'unrecognized_keys') reason = `unknown field(s): ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && value === undefined) reason = 'a JSON body is required';
  throw badRequest(field, reason);
}

/** If-Match: "N", W/"N" or N. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header === '*') return undefined;
  const m = header.trim().match(/^(?:W\/)?"?(\d{1,15})"?$/);
  if (!m) throw new ApiError(400, 'invalid', 'If-Match: must be an ETag this API returned, e.g. "3"', 'If-Match');
  return Number(m[1]);
}

/** Path parameters are ids made of DNS-1123 labels joined by dots, or event ids. */
export function pathId(value: string, what: string): string {
  if (!/^[a-z0-9][a-z0-9.-]{0,254}$/.test(value) && !/^evt-[0-9a-f-]{36}$/.test(value) && !/^[A-Za-z0-9]{16}$/.test(value))
    throw badRequest(what, 'is not a valid id');
  return value;
}

/** Version ids as the builder records them (operationSchema's version_id has the same shape). */
export function versionId(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(value)) throw badRequest('version', 'is not a valid version id');
  return value;
}
