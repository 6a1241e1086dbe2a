import { CliError, EXIT, exitCodeOf } from './exit-codes';

export interface ApiError {
  code: string;
  message: string;
  field?: string;
}

/** One JSON call; an error answer becomes a CliError with the API's message (and field) and a meaningful exit code. */
export async function callJson(
  base: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 15_000,
  headers: Record<string, string> = {},
): Promise<unknown> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        'x-wharf-client': 'cli',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    throw new CliError(`cannot reach ${base}: ${why}`, EXIT.unavailable);
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.status >= 400) {
    const e = (json as { error?: ApiError } | undefined)?.error;
    const message = e ? (e.field && !e.message.startsWith(`${e.field}:`) ? `${e.field}: ${e.message}` : e.message) : `HTTP ${res.status} ${text.slice(0, 200)}`;
    throw new CliError(message, exitCodeOf(res.status));
  }
  return json;
}
