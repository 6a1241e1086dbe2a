import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EtcdInstance } from './etcd';
import { freePort, waitFor } from './ports';
import { spawnProcess, type ManagedProcess } from './process';
import { serviceEnv } from './services';

/** lb-manager as a real process for tests of any project (its own and app-manager's on a cluster), and requests through its nginx. */

const MAIN = join(__dirname, '..', '..', '..', 'services', 'lb-manager', 'dist', 'main.js');

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
      WHARF_SECRET_KEY: 'ab'.repeat(32),
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
