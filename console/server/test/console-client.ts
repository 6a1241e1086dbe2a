/** Test helpers: a console client that behaves like a browser (cookie + CSRF token), and data-center set-up through an api-gateway's REST API. */

export interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever the API answered
  body: any;
  headers: Headers;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers };
}

/** Like a browser: keeps the session cookie, sends the CSRF token on changes (unless told not to). */
export class BrowserLike {
  cookie?: string;
  csrf?: string;

  constructor(readonly base: string) {}

  async signIn(name: string, password: string): Promise<Answer> {
    const res = await this.request('POST', '/api/v1/session', { name, password });
    if (res.status === 201 || res.status === 200) this.csrf = res.body.csrf_token;
    return res;
  }

  async request(method: string, path: string, body?: unknown, options: { csrf?: boolean; headers?: Record<string, string> } = {}): Promise<Answer> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.csrf !== false && this.csrf && method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
        ...options.headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const set = res.headers.get('set-cookie');
    if (set) {
      const m = set.match(/wharf_session=([^;]*)/);
      if (m) this.cookie = m[1] ? `wharf_session=${m[1]}` : undefined;
    }
    return answer(res);
  }
}

/** A JSON client with a bearer token (a data center's api-gateway, or the console as a script). */
export function bearer(base: string, token?: string) {
  return async (method: string, path: string, body?: unknown): Promise<Answer> =>
    answer(
      await fetch(`${base}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
}

/** In a data center: a user with a role in some tenants and a token of theirs (what a console user links). */
export async function dcUserToken(apiUrl: string, adminToken: string, user: string, roles: Record<string, 'owner' | 'developer' | 'viewer'>): Promise<string> {
  const admin = bearer(apiUrl, adminToken);
  const made = await admin('POST', '/api/v1/users', { name: user });
  if (made.status !== 201) throw new Error(`user ${user}: ${made.status} ${JSON.stringify(made.body)}`);
  for (const [tenant, role] of Object.entries(roles)) {
    const m = await admin('POST', `/api/v1/tenants/${tenant}/members`, { user_id: user, role });
    if (m.status !== 201) throw new Error(`member ${user} of ${tenant}: ${m.status} ${JSON.stringify(m.body)}`);
  }
  const t = await admin('POST', `/api/v1/users/${user}/tokens`, { name: 'console' });
  if (t.status !== 201) throw new Error(`token of ${user}: ${t.status}`);
  return t.body.token as string;
}

/** In a data center: tenants with apps, made by its admin. */
export async function seedDataCenter(apiUrl: string, adminToken: string, tenants: Record<string, string[]>): Promise<void> {
  const admin = bearer(apiUrl, adminToken);
  for (const [tenant, apps] of Object.entries(tenants)) {
    const t = await admin('POST', '/api/v1/tenants', { name: tenant });
    if (t.status !== 201) throw new Error(`tenant ${tenant}: ${t.status} ${JSON.stringify(t.body)}`);
    for (const app of apps) {
      const a = await admin('POST', `/api/v1/tenants/${tenant}/apps`, { name: app });
      if (a.status !== 201) throw new Error(`app ${tenant}/${app}: ${a.status}`);
    }
  }
}
