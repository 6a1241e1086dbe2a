import { spawnProcess, type ManagedProcess } from '@wharf/testing';
import { join } from 'node:path';

export const API_MAIN = join(__dirname, '..', 'dist', 'main.js');
export const TEST_SECRET_KEY = 'a'.repeat(64);

export interface RunningApi {
  process: ManagedProcess;
  url: string;
  adminToken?: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the built api-gateway as a real process on a free port. */
export async function startApi(etcdEndpoint: string, mqAddress: string, env: Record<string, string> = {}): Promise<RunningApi> {
  const proc = spawnProcess(process.execPath, [API_MAIN], {
    env: { ...process.env, WHARF_ETCD_ENDPOINTS: etcdEndpoint, WHARF_MQ_ADDR: mqAddress, WHARF_HTTP_PORT: '0', WHARF_SECRET_KEY: TEST_SECRET_KEY, WHARF_LOG_LEVEL: 'warn', ...env },
  });
  const [, http] = await proc.waitForOutput(/api-gateway listening http=(\S+)/, 30000);
  const token = proc.output().match(/admin token \(shown once, store it now\): (\S+)/)?.[1];
  return { process: proc, url: `http://${http}`, adminToken: token, stop: async (signal = 'SIGTERM') => void (await proc.stop(signal)) };
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
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  };
}
