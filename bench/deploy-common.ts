// What both deploy benches (Docker and Kubernetes) share: a bounded wait, one HTTP probe, and the
// bench's API client (calls, operations retried while the API's read model catches up, finals).
import { request } from 'node:http';

export const log = (msg: string) => process.stderr.write(`${msg}\n`);
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The status of one GET / (0 when nothing answers within 500 ms). */
export function get(host: string, port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', timeout: 500, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Polls `probe` every `everyMs` until it gives a value; gives up after capMs. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, everyMs: number, capMs: number): Promise<T> {
  const deadline = performance.now() + capMs;
  while (performance.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(everyMs);
  }
  throw new Error(`bench: timed out waiting for ${what}`);
}

/** The REST calls the deploy benches make as the admin, in tenant `bench`. */
export function benchApi(gatewayUrl: string, token: string, capMs: number) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gatewayUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  /** An operation call; the versions recorded a moment ago may not be in the API's read model yet (409 then). */
  const operate = async (componentId: string, body: Record<string, unknown>) => {
    for (let i = 0; ; i++) {
      try {
        return (await call('POST', `/tenants/bench/components/${componentId}/operations`, body)).event_id as string;
      } catch (err) {
        if (i >= 100 || !/: 409 /.test((err as Error).message)) throw err;
        await sleep(20);
      }
    }
  };
  const finished = (eventId: string) =>
    until(
      `operation ${eventId}`,
      async () => {
        const op = await call('GET', `/tenants/bench/operations/${eventId}`);
        if (op.status === 'failure' || op.status === 'timeout') throw new Error(`operation ${eventId} ${op.status}: ${op.message}`);
        return op.status === 'success' ? op : undefined;
      },
      20,
      capMs,
    );
  return { call, operate, finished };
}
