import { mqV1 } from '@wharf/contracts';
import { createClient, type ServiceClient } from '@wharf/grpc';
import { join } from 'node:path';
import { spawnProcess, type ManagedProcess } from './process';

/** The repository root, where the built services live (services/<name>/dist/main.js). */
const ROOT = join(__dirname, '..', '..', '..');

export interface RunningMq {
  process: ManagedProcess;
  grpc: string;
  http: string;
  client: ServiceClient<typeof mqV1.MqService>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the built mq service as a real process on free ports (npm test builds it first). */
export async function startMq(etcdEndpoint: string, env: Record<string, string> = {}): Promise<RunningMq> {
  const proc = spawnProcess(process.execPath, [join(ROOT, 'services', 'mq', 'dist', 'main.js')], {
    env: { ...process.env, WHARF_ETCD_ENDPOINTS: etcdEndpoint, WHARF_MQ_GRPC_ADDR: '127.0.0.1:0', WHARF_HTTP_PORT: '0', WHARF_LOG_LEVEL: 'warn', ...env },
  });
  const [, grpc, http] = await proc.waitForOutput(/mq listening grpc=(\S+) http=(\S+)/);
  const client = createClient(mqV1.MqService, grpc);
  return {
    process: proc,
    grpc,
    http,
    client,
    async stop(signal = 'SIGTERM') {
      client.close();
      await proc.stop(signal);
    },
  };
}

export interface RunningApiGateway {
  process: ManagedProcess;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The one-time admin token it printed (first start without WHARF_ADMIN_TOKEN), if any. */
  adminToken?: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the built api-gateway as a real process on a free port (WHARF_SECRET_KEY set to a test key). */
export async function startApiGateway(
  etcdEndpoint: string,
  mqAddress: string,
  env: Record<string, string> = {},
  timeoutMs = 30000,
): Promise<RunningApiGateway> {
  const proc = spawnProcess(process.execPath, [join(ROOT, 'services', 'api-gateway', 'dist', 'main.js')], {
    env: {
      ...process.env,
      WHARF_ETCD_ENDPOINTS: etcdEndpoint,
      WHARF_MQ_ADDR: mqAddress,
      WHARF_HTTP_PORT: '0',
      WHARF_SECRET_KEY: 'ab'.repeat(32),
      WHARF_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  const [, http] = await proc.waitForOutput(/api-gateway listening http=(\S+)/, timeoutMs);
  const adminToken = proc.output().match(/admin token \(shown once, store it now\): (\S+)/)?.[1];
  return { process: proc, url: `http://${http}`, adminToken, stop: async (signal = 'SIGTERM') => void (await proc.stop(signal)) };
}

export interface RunningEventLog {
  process: ManagedProcess;
  /** gRPC HOST:PORT */
  grpc: string;
  /** http://HOST:PORT (health, metrics, history, socket.io) */
  url: string;
  instance: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the built event-log as a real process on free ports; dataDir is shared by instances of one cluster. */
export async function startEventLog(etcdEndpoint: string, dataDir: string, env: Record<string, string> = {}, timeoutMs = 30000): Promise<RunningEventLog> {
  // WHARF_TEST_EVENTLOG_NODE_ARGS (diagnosis only): extra node flags, e.g. --cpu-prof.
  const nodeArgs = process.env.WHARF_TEST_EVENTLOG_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawnProcess(process.execPath, [...nodeArgs, join(ROOT, 'services', 'event-log', 'dist', 'main.js')], {
    env: {
      ...process.env,
      WHARF_ETCD_ENDPOINTS: etcdEndpoint,
      WHARF_EVENTLOG_DATA_DIR: dataDir,
      WHARF_EVENTLOG_GRPC_ADDR: '127.0.0.1:0',
      WHARF_HTTP_PORT: '0',
      WHARF_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  const [, grpc, http, instance] = await proc.waitForOutput(/event-log listening grpc=(\S+) http=(\S+) instance=(\S+)/, timeoutMs);
  return { process: proc, grpc, url: `http://${http}`, instance, stop: async (signal = 'SIGTERM') => void (await proc.stop(signal)) };
}

export interface RunningConsole {
  process: ManagedProcess;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The first user and password it printed (a console without users), if any. */
  firstUser?: { name: string; password: string };
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the built console server as a real process on a free port, on its own etcd prefix (a test key for data-center tokens, a cheap bcrypt cost). */
export async function startConsole(etcdEndpoint: string, env: Record<string, string> = {}, timeoutMs = 30000): Promise<RunningConsole> {
  const proc = spawnProcess(process.execPath, [join(ROOT, 'console', 'server', 'dist', 'main.js')], {
    env: {
      ...process.env,
      WHARF_ETCD_ENDPOINTS: etcdEndpoint,
      WHARF_HTTP_PORT: '0',
      WHARF_CONSOLE_SECRET_KEY: 'cd'.repeat(32),
      WHARF_TEST_BCRYPT_COST: '4',
      WHARF_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  const [, http] = await proc.waitForOutput(/console listening http=(\S+)/, timeoutMs);
  const m = proc.output().match(/console first user \(shown once, store it now\): (\S+) (\S+)/);
  return {
    process: proc,
    url: `http://${http}`,
    firstUser: m ? { name: m[1], password: m[2] } : undefined,
    stop: async (signal = 'SIGTERM') => void (await proc.stop(signal)),
  };
}
