import { invalidArgument } from '@wharf/errors';
import type { z } from 'zod';

/** Parses input with a zod schema; the 400 names the first offending field and why. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.infer<S> {
  const result = schema.safeParse(value ?? (what === 'query' ? {} : value));
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length ? issue.path.join('.') : what;
  let reason = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const field0 = what === 'query' ? issue.keys[0] : field;
    throw invalidArgument(field0, what === 'query' ? 'unknown query parameter' : `unknown field(s): ${issue.keys.join(', ')}`);
  }
  if (issue.code === 'invalid_type' && value === undefined) reason = 'a JSON body is required';
  throw invalidArgument(field, reason);
}
