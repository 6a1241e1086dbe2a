// What both deploy benches (Docker and Kubernetes) share: a bounded wait, one HTTP probe, the
// bench's API client (calls, operations retried while the API's read model catches up, finals)
// and its components (made through the API, their versions recorded as the builder would).
import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import type { Etcd3, KeyLayout } from '@wharf/etcd';
import type { EtcdEventStore } from '@wharf/event-store';
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

/** Bench components of app bench.web, and how many ready endpoints app-manager published for one. */
export function benchComponents(o: {
  api: ReturnType<typeof benchApi>;
  client: Etcd3;
  keys: KeyLayout;
  store: EtcdEventStore;
  /** Version id -> image, recorded on every component made. */
  versions: [string, string][];
  capMs: number;
}) {
  const readyEndpoints = async (componentId: string) => {
    const json = await o.client.get(o.keys.endpoints.component(componentId)).string();
    return json ? ((JSON.parse(json) as { endpoints?: unknown[] }).endpoints ?? []).length : 0;
  };
  const component = async (name: string, replicas: number) => {
    const c = await o.api.call('POST', '/tenants/bench/apps/bench.web/components', {
      name,
      source: { image: o.versions[0][1] },
      ports: [{ port: 8080, protocol: 'http' }],
      replicas,
      cpu_millis: 100,
      memory_mib: 32,
      probe: { kind: 'http', path: '/', port: 8080, period_s: 2, failure_threshold: 3 },
    });
    const id = c.id as string;
    for (const [versionId, image] of o.versions)
      await o.store.append(
        `component/${id}`,
        [{ message: create(eventsV1.VersionRecordedSchema, { componentId: id, versionId, image, status: 'success' }) }],
        'any',
      );
    // Wait until the API's read model has the versions, so no 409 lands inside a measurement.
    await until(
      'the API to see the versions',
      async () => ((await o.api.call('GET', `/tenants/bench/components/${id}`)).versions === o.versions.length ? true : undefined),
      10,
      o.capMs,
    );
    return id;
  };
  return { readyEndpoints, component };
}
