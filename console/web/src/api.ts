/** The console's REST API from the browser: same origin, the session cookie, the CSRF token on every change. */

export interface ApiErrorBody {
  code: string;
  message: string;
  field?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: ApiErrorBody,
  ) {
    super(error.message);
  }
}

let csrfToken = '';
export const setCsrf = (token: string) => (csrfToken = token);

export async function api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(method !== 'GET' ? { 'x-csrf-token': csrfToken } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, { code: 'unreachable', message: `the console does not answer (${(err as Error).message})` });
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) throw new ApiError(res.status, (json as { error?: ApiErrorBody })?.error ?? { code: 'error', message: `HTTP ${res.status}` });
  return json as T;
}

export interface Session {
  user: { name: string; admin: boolean };
  csrf_token: string;
}

export interface DcOutcome {
  id: string;
  name: string;
  status: 'ok' | 'unreachable' | 'not_linked' | 'error' | 'unsupported';
  message: string | null;
}

export interface Federated<T> {
  items: (T & { dc: string; dc_name: string })[];
  data_centers: DcOutcome[];
}

export interface AppItem {
  id: string;
  name: string;
  tenant: string;
  components: number;
  description: string;
}

export interface ComponentItem {
  id: string;
  name: string;
  tenant: string;
  app: string;
  app_name: string;
  status: string;
  replicas: number;
  active_operation: string | null;
  source: { image?: string; git?: { url: string; branch: string } } | null;
}

export interface DataCenter {
  id: string;
  name: string;
  api_url: string;
  linked: boolean;
  dc_user: string | null;
  health: { status: 'ok' | 'unreachable'; message: string | null; sinceMs: number | null; retryAtMs: number | null };
}

/** A path of a data center's own API through the console (the caller's token there). */
export const dcPath = (dc: string, path: string) => `/api/v1/dcs/${encodeURIComponent(dc)}/api/v1${path}`;
