import { mqV1 } from '@wharf/contracts';
import { createClient, type ServiceClient } from '@wharf/grpc';
import type { TransportSecurity } from '@wharf/pki';
import { join } from 'node:path';
import type { EtcdInstance } from './etcd';
import { waitFor } from './ports';
import { spawnProcess, type ManagedProcess } from './process';

/** The repository root, where the built services live (services/<name>/dist/main.js). */
const ROOT = join(__dirname, '..', '..', '..');

/** The environment a service process of `identity` needs for etcd and mutual TLS (insecure-dev when the etcd runs without TLS). */
export function serviceEnv(etcd: EtcdInstance, identity: string): Record<string, string> {
  return { WHARF_ETCD_ENDPOINTS: etcd.endpoint, ...(etcd.tls ? etcd.pki.env(identity) : { WHARF_INSECURE_DEV: '1' }) };
}

/** How a test's client of `identity` connects to services started with this etcd. */
export function clientSecurity(etcd: EtcdInstance, identity: string): TransportSecurity {
  return etcd.tls ? etcd.pki.security(identity) : { mode: 'insecure-dev' };
}

export interface RunningMq {
  process: ManagedProcess;
  grpc: string;
  http: string;
  /** As builder: the identity that may enqueue and consume (the method table's producer and consumer). */
  client: ServiceClient<typeof mqV1.MqService>;
  /** As the operator (admin): Stats and ListDead. */
  admin: ServiceClient<typeof mqV1.MqService>;
  /** A new client as any identity (closed by stop()). */
  clientAs(identity: string): ServiceClient<typeof mqV1.MqService>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the built mq service as a real process on free ports (npm test builds it first), with its certificate from the etcd's PKI. */
export async function startMq(etcd: EtcdInstance, env: Record<string, string> = {}): Promise<RunningMq> {
  // WHARF_TEST_MQ_NODE_ARGS (diagnosis only): extra node flags, e.g. --cpu-prof.
  const nodeArgs = process.env.WHARF_TEST_MQ_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawnProcess(process.execPath, [...nodeArgs, join(ROOT, 'services', 'mq', 'dist', 'main.js')], {
    env: { ...process.env, ...serviceEnv(etcd, 'mq'), WHARF_MQ_GRPC_ADDR: '127.0.0.1:0', WHARF_HTTP_PORT: '0', WHARF_LOG_LEVEL: 'warn', ...env },
  });
  const [, grpc, http] = await proc.waitForOutput(/mq listening grpc=(\S+) http=(\S+)/);
  const clients: { close(): void }[] = [];
  const clientAs = (identity: string) => {
    const c = createClient(mqV1.MqService, grpc, { security: clientSecurity(etcd, identity) });
    clients.push(c);
    return c;
  };
  return {
    process: proc,
    grpc,
    http,
    client: clientAs('builder'),
    admin: clientAs('admin'),
    clientAs,
    async stop(signal = 'SIGTERM') {
      for (const c of clients) c.close();
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
export async function startApiGateway(etcd: EtcdInstance, mqAddress: string, env: Record<string, string> = {}, timeoutMs = 30000): Promise<RunningApiGateway> {
  // WHARF_TEST_API_NODE_ARGS (diagnosis only): extra node flags, e.g. --cpu-prof.
  const nodeArgs = process.env.WHARF_TEST_API_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawnProcess(process.execPath, [...nodeArgs, join(ROOT, 'services', 'api-gateway', 'dist', 'main.js')], {
    env: {
      ...process.env,
      ...serviceEnv(etcd, 'api-gateway'),
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
export async function startEventLog(
  etcd: EtcdInstance,
  dataDir: string,
  env: Record<string, string> = {},
  timeoutMs = 30000,
  options: { waitReady?: boolean } = {},
): Promise<RunningEventLog> {
  // WHARF_TEST_EVENTLOG_NODE_ARGS (diagnosis only): extra node flags, e.g. --cpu-prof.
  const nodeArgs = process.env.WHARF_TEST_EVENTLOG_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawnProcess(process.execPath, [...nodeArgs, join(ROOT, 'services', 'event-log', 'dist', 'main.js')], {
    env: {
      ...process.env,
      ...serviceEnv(etcd, 'event-log'),
      WHARF_EVENTLOG_DATA_DIR: dataDir,
      WHARF_EVENTLOG_GRPC_ADDR: '127.0.0.1:0',
      WHARF_HTTP_PORT: '0',
      WHARF_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  const [, grpc, http, instance] = await proc.waitForOutput(/event-log listening grpc=(\S+) http=(\S+) instance=(\S+)/, timeoutMs);
  const url = `http://${http}`;
  // Listening is not ready: appends fail until its partitions are owned (as `npm run up` waits too).
  if (options.waitReady ?? true) {
    try {
      await waitFor(
        `event-log ${instance} ready`,
        async () => ((await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined),
        timeoutMs,
        50,
      );
    } catch (err) {
      await proc.stop('SIGKILL');
      throw err;
    }
  }
  return { process: proc, grpc, url, instance, stop: async (signal = 'SIGTERM') => void (await proc.stop(signal)) };
}

export interface RunningAppManager {
  process: ManagedProcess;
  /** gRPC HOST:PORT (AppManagerService) */
  grpc: string;
  /** http://HOST:PORT (probes, metrics) */
  url: string;
  instance: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts the built app-manager as a real process on free ports. Pass WHARF_DATA_CENTER (and
 * WHARF_DOCKER_NAME_PREFIX) unique to the test run: it then sees and touches only its own containers.
 */
export async function startAppManager(
  etcd: EtcdInstance,
  mqAddress: string,
  eventLogAddress: string,
  env: Record<string, string> = {},
  timeoutMs = 30000,
): Promise<RunningAppManager> {
  const proc = spawnProcess(process.execPath, [join(ROOT, 'services', 'app-manager', 'dist', 'main.js')], {
    env: {
      ...process.env,
      ...serviceEnv(etcd, 'app-manager'),
      WHARF_MQ_ADDR: mqAddress,
      WHARF_EVENTLOG_ADDR: eventLogAddress,
      WHARF_APPMGR_GRPC_ADDR: '127.0.0.1:0',
      WHARF_HTTP_PORT: '0',
      WHARF_SECRET_KEY: 'ab'.repeat(32),
      WHARF_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  const [, grpc, http, instance] = await proc.waitForOutput(/app-manager listening grpc=(\S+) http=(\S+) instance=(\S+)/, timeoutMs);
  return { process: proc, grpc, url: `http://${http}`, instance, stop: async (signal = 'SIGTERM') => void (await proc.stop(signal)) };
}

export interface RunningBuilder {
  process: ManagedProcess;
  /** http://HOST:PORT (probes, metrics) */
  url: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the built builder as a real process (its HTTP on a free port), with its certificate from the etcd's PKI; env names mq, event-log and the registry. */
export async function startBuilder(etcd: EtcdInstance, env: Record<string, string>, timeoutMs = 30000): Promise<RunningBuilder> {
  const proc = spawnProcess(process.execPath, [join(ROOT, 'services', 'builder', 'dist', 'main.js')], {
    env: { ...process.env, ...serviceEnv(etcd, 'builder'), WHARF_HTTP_PORT: '0', WHARF_LOG_LEVEL: 'warn', ...env },
  });
  const [, http] = await proc.waitForOutput(/builder listening http=(\S+)/, timeoutMs);
  return { process: proc, url: `http://${http}`, stop: async (signal = 'SIGTERM') => void (await proc.stop(signal)) };
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
export async function startConsole(etcd: EtcdInstance, env: Record<string, string> = {}, timeoutMs = 30000): Promise<RunningConsole> {
  // WHARF_TEST_CONSOLE_NODE_ARGS (diagnosis only): extra node flags, e.g. --cpu-prof.
  const nodeArgs = process.env.WHARF_TEST_CONSOLE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawnProcess(process.execPath, [...nodeArgs, join(ROOT, 'console', 'server', 'dist', 'main.js')], {
    env: {
      ...process.env,
      ...serviceEnv(etcd, 'console'),
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

export interface RunningNodeManager {
  process: ManagedProcess;
  /** http://HOST:PORT (probes, metrics, /node) */
  url: string;
  nodeId: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts the built node-manager as a real process for node `nodeId` (its HTTP on a free port).
 * Several with different ids on one machine stand for several nodes; pass WHARF_DATA_CENTER
 * unique to the test run, and WHARF_MQ_ADDR + WHARF_EVENTLOG_ADDR for node tasks.
 */
export async function startNodeManager(etcd: EtcdInstance, nodeId: string, env: Record<string, string> = {}, timeoutMs = 30000): Promise<RunningNodeManager> {
  const proc = spawnProcess(process.execPath, [join(ROOT, 'services', 'node-manager', 'dist', 'main.js')], {
    env: { ...process.env, ...serviceEnv(etcd, 'node-manager'), WHARF_NODE_ID: nodeId, WHARF_HTTP_PORT: '0', WHARF_LOG_LEVEL: 'warn', ...env },
  });
  const [, http] = await proc.waitForOutput(/node-manager listening http=(\S+)/, timeoutMs);
  return { process: proc, url: `http://${http}`, nodeId, stop: async (signal = 'SIGTERM') => void (await proc.stop(signal)) };
}
