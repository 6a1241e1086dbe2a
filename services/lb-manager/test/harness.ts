import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { KeyLayout, type Etcd3 } from '@wharf/etcd';
import type { EventStore } from '@wharf/event-store';
import { SecretBox } from '@wharf/secrets';
import { freePort, serviceEnv, spawnProcess, waitFor, type EtcdInstance, type ManagedProcess } from '@wharf/testing';
import type Docker from 'dockerode';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';

/** Helpers of lb-manager's integration tests: the service as a real process, routes as events, endpoints as etcd keys, replicas as containers. */

export const TEST_SECRET_KEY = 'ab'.repeat(32);
export const testBox = new SecretBox(SecretBox.parseKey(TEST_SECRET_KEY));
const MAIN = join(__dirname, '..', 'dist', 'main.js');

export interface RunningLbManager {
  process: ManagedProcess;
  /** lb-manager's own HTTP: http://127.0.0.1:PORT (/routes, /metrics, /readyz). */
  url: string;
  httpPort: number;
  httpsPort: number;
  dataDir: string;
  routes(): Promise<RoutesView>;
  metric(name: string, labels?: string): Promise<number>;
  /** SIGTERM (nginx stopped with it), then the data dir removed. */
  stop(): Promise<void>;
}

export interface RoutesView {
  table_version: string | null;
  stream_generation: string | null;
  errors: Record<string, string>;
  http: { host: string; path_prefix: string; upstream: string; peers: string[] }[];
  tcp: { listen_port: number; upstream: string; peers: string[] }[];
  certificates: string[];
  rejected: { component_id: string; what: string; reason: string }[];
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Starts the built lb-manager (npm run build first) on free ports with its own data dir, with
 * its certificate from the etcd's PKI (serviceEnv: the etcd endpoint and WHARF_TLS_*).
 */
export async function startLbManager(etcd: EtcdInstance, env: Record<string, string> = {}): Promise<RunningLbManager> {
  const dataDir = env.WHARF_LB_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'wharf-lb-'));
  chmodSync(dataDir, 0o755);
  const httpPort = env.WHARF_LB_HTTP_PORT ? Number(env.WHARF_LB_HTTP_PORT) : await freePort();
  const httpsPort = env.WHARF_LB_HTTPS_PORT ? Number(env.WHARF_LB_HTTPS_PORT) : await freePort();
  const proc = spawnProcess(process.execPath, [MAIN], {
    env: {
      ...process.env,
      ...serviceEnv(etcd, 'lb-manager'),
      WHARF_HTTP_PORT: '0',
      WHARF_LB_HTTP_PORT: String(httpPort),
      WHARF_LB_HTTPS_PORT: String(httpsPort),
      WHARF_LB_DATA_DIR: dataDir,
      WHARF_LB_WORKER_PROCESSES: '2',
      WHARF_SECRET_KEY: TEST_SECRET_KEY,
      WHARF_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  const [, http] = await proc.waitForOutput(/lb-manager listening http=(\S+)/, 30_000);
  const url = `http://${http}`;
  const stopNginx = () => {
    // Whatever happened to lb-manager, no nginx of this test outlives it.
    for (const name of ['http', 'stream']) {
      const pidFile = join(dataDir, name, 'run', 'nginx.pid');
      if (!existsSync(pidFile)) continue;
      const pid = Number(readFileSync(pidFile, 'utf8'));
      if (pid > 0 && alive(pid)) process.kill(pid, 'SIGTERM');
    }
  };
  return {
    process: proc,
    url,
    httpPort,
    httpsPort,
    dataDir,
    routes: async () => (await fetch(`${url}/routes`)).json() as Promise<RoutesView>,
    async metric(name, labels = '') {
      const text = await (await fetch(`${url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `) || (!labels && l.startsWith(`${name} `)));
      return line ? Number(line.split(' ').at(-1)) : NaN;
    },
    async stop() {
      await proc.stop('SIGTERM');
      stopNginx();
      await waitFor('nginx of the test to exit', async () => (['http', 'stream'].every((n) => !nginxAlive(dataDir, n)) ? true : undefined), 15_000);
      if (!env.WHARF_LB_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function nginxAlive(dataDir: string, name: string): boolean {
  const pidFile = join(dataDir, name, 'run', 'nginx.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  return pid > 0 && alive(pid);
}

export type Spec = Parameters<typeof create<typeof eventsV1.ComponentSpecSchema>>[1];

/** Writes routes the way api-gateway does: events on the tenant, app and component streams. */
export class RouteEvents {
  private versions = new Map<string, number>();
  constructor(private readonly store: EventStore) {}

  private async append(stream: string, message: Parameters<EventStore['append']>[1][number]['message']): Promise<void> {
    const expected = this.versions.get(stream) ?? 0;
    const res = await this.store.append(stream, [{ message, actor: 'test' }], expected);
    this.versions.set(stream, res.version);
  }

  tenant(id: string, name: string) {
    return this.append(`tenant/${id}`, create(eventsV1.TenantCreatedSchema, { tenantId: id, name }));
  }
  app(id: string, tenantId: string, name: string) {
    return this.append(`app/${id}`, create(eventsV1.AppCreatedSchema, { appId: id, tenantId, name }));
  }
  component(id: string, appId: string, tenantId: string, spec: Spec) {
    return this.append(
      `component/${id}`,
      create(eventsV1.ComponentCreatedSchema, { componentId: id, appId, tenantId, spec: create(eventsV1.ComponentSpecSchema, spec) }),
    );
  }
  update(id: string, spec: Spec) {
    return this.append(`component/${id}`, create(eventsV1.ComponentUpdatedSchema, { componentId: id, spec: create(eventsV1.ComponentSpecSchema, spec) }));
  }
  remove(id: string) {
    return this.append(`component/${id}`, create(eventsV1.ComponentDeletedSchema, { componentId: id }));
  }
}

/** Writes `<root>/endpoints/<component>` as app-manager does (ComponentEndpoints, proto3 JSON). */
export async function setEndpoints(etcd: Etcd3, keys: KeyLayout, componentId: string, addresses: string[], ports: { port: number; protocol: string }[] = []) {
  const value = { componentId, ports, endpoints: addresses.map((address, i) => ({ replica: `${componentId}-${i}`, address, versionId: 'v1' })) };
  await etcd.put(keys.endpoints.component(componentId)).value(JSON.stringify(value));
}

/** Containers of one test file on a Docker network it created (and removes, with them). */
export class TestNetwork {
  private network?: Docker.Network;
  private containers: Docker.Container[] = [];
  constructor(
    private readonly docker: Docker,
    readonly name: string,
  ) {}

  async create(): Promise<void> {
    this.network = await this.docker.createNetwork({ Name: this.name, Driver: 'bridge', Labels: { 'wharf.test': 'lb-manager' } });
  }

  /** Starts a container on the network; resolves with its address there. */
  async run(image: string, name: string): Promise<{ container: Docker.Container; address: string }> {
    const container = await this.docker.createContainer({
      Image: image,
      name: `${this.name}-${name}`,
      Labels: { 'wharf.test': 'lb-manager' },
      HostConfig: { NetworkMode: this.name, AutoRemove: false },
    });
    this.containers.push(container);
    await container.start();
    const info = await container.inspect();
    const address = info.NetworkSettings.Networks[this.name]?.IPAddress;
    if (!address) throw new Error(`container ${name} has no address on ${this.name}`);
    return { container, address };
  }

  async stop(container: Docker.Container): Promise<void> {
    await container.stop({ t: 2 }).catch(() => undefined);
  }

  async destroy(): Promise<void> {
    for (const c of this.containers) await c.remove({ force: true }).catch(() => undefined);
    await this.network?.remove().catch(() => undefined);
  }
}

/** Polls `probe` until it returns a value, at most `boundMs`; resolves with the value and how long it took (reported, never asserted). */
export async function within<T>(what: string, boundMs: number, probe: () => Promise<T | undefined>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await waitFor(what, probe, boundMs, 10);
  return { value, ms: Date.now() - started };
}

/** One request through the gateway with a Host header (node:http: fetch may not set Host); status, body and headers. */
export function viaGateway(
  port: number,
  host: string,
  path = '/',
  headers: Record<string, string> = {},
  address = '127.0.0.1',
): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, headers: { host, connection: 'close', ...headers }, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}
