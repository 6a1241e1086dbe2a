import { startApiGateway, type EtcdInstance, type RunningApiGateway } from '@wharf/testing';

export type RunningApi = RunningApiGateway;

/** Starts the built api-gateway as a real process on a free port. */
export function startApi(etcd: EtcdInstance, mqAddress: string, env: Record<string, string> = {}): Promise<RunningApi> {
  return startApiGateway(etcd, mqAddress, env);
}

/** A tiny JSON client over fetch. */
export function client(base: string, token?: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read whatever the API answered
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  };
}
