import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports';
import { ManagedProcess, spawnProcess } from './process';

export interface EtcdInstance {
  readonly endpoint: string;
  readonly dataDir: string;
  /** --quota-backend-bytes it runs with: past it etcd raises NOSPACE and refuses writes. */
  readonly quotaBytes: number;
  /** SIGTERM and wait; data dir kept so start() brings the same member back. */
  stop(): Promise<void>;
  /** SIGKILL: a crash. Data dir kept. */
  kill(): Promise<void>;
  /** Starts again on the same ports and data dir. */
  start(): Promise<void>;
  /** Stops and removes the data dir. */
  destroy(): Promise<void>;
}

export function etcdBinary(): string {
  const candidates = [process.env.WHARF_ETCD_BIN, '/usr/bin/etcd', '/usr/local/bin/etcd'].filter((c): c is string => !!c);
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error('etcd not found: install Debian package etcd-server (scripts/ensure-deps.sh does) or set WHARF_ETCD_BIN');
  return found;
}

/** etcd's own default quota, passed explicitly so tests and the services' health figures agree on it. */
export const TEST_ETCD_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

/** A real single-member etcd on free 127.0.0.1 ports with its own temp data dir. */
export async function startEtcd(options: { quotaBytes?: number } = {}): Promise<EtcdInstance> {
  const quotaBytes = options.quotaBytes ?? TEST_ETCD_QUOTA_BYTES;
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-etcd-'));
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name',
    'wharf-test',
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    endpoint,
    '--advertise-client-urls',
    endpoint,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `wharf-test=${peer}`,
    '--log-level',
    'warn',
    '--logger',
    'zap',
    '--quota-backend-bytes',
    String(quotaBytes),
  ];
  let proc: ManagedProcess | undefined;
  const start = async () => {
    proc = spawnProcess(etcdBinary(), args);
    const running = proc;
    await waitFor(`etcd on ${endpoint}`, async () => {
      if (running.child.exitCode !== null) throw new Error(`etcd exited: ${running.output().slice(-2000)}`);
      const res = await fetch(`${endpoint}/health`);
      const body = (await res.json()) as { health?: string };
      return body.health === 'true' ? true : undefined;
    });
  };
  const halt = async (signal: NodeJS.Signals) => {
    if (proc) await proc.stop(signal);
    proc = undefined;
  };
  await start();
  return {
    endpoint,
    dataDir,
    quotaBytes,
    start,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    async destroy() {
      await halt('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
