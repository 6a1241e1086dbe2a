import type { TransportSecurity } from '@wharf/pki';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki, type TestPki } from './pki';
import { freePort, waitFor } from './ports';
import { ManagedProcess, spawnProcess } from './process';

export interface EtcdInstance {
  /** https://127.0.0.1:PORT (http:// with tls: false). */
  readonly endpoint: string;
  readonly dataDir: string;
  /** --quota-backend-bytes it runs with: past it etcd raises NOSPACE and refuses writes. */
  readonly quotaBytes: number;
  /** The PKI whose CA etcd trusts; services started with this etcd get their certificates from it. */
  readonly pki: TestPki;
  /** How a test's own etcd client connects (the operator's admin certificate; insecure-dev with tls: false). */
  readonly security: TransportSecurity;
  /** True: client-certificate authentication on https (the default). */
  readonly tls: boolean;
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

export interface StartEtcdOptions {
  quotaBytes?: number;
  /** Client-certificate authentication on https (default true); false: plain http, for the insecure-dev path only. */
  tls?: boolean;
  /** The PKI to use (default: a new one in a temp dir, removed by destroy()). */
  pki?: TestPki;
  /** Picks each listening port (default: freePort); a test can hand out a taken one. */
  pickPort?: () => Promise<number>;
}

/** GET over https with a client certificate (node's fetch cannot present one). */
function httpsGet(url: string, pki: TestPki): Promise<string> {
  const f = pki.files('admin');
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(f.caFile), cert: readFileSync(f.certFile), key: readFileSync(f.keyFile), timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * A real single-member etcd on free 127.0.0.1 ports with its own temp data dir, serving
 * clients over https and admitting only those with a certificate of its PKI's CA
 * (--client-cert-auth), as `npm run up` runs it.
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdInstance> {
  const quotaBytes = options.quotaBytes ?? TEST_ETCD_QUOTA_BYTES;
  const tls = options.tls ?? true;
  const ownPki = !options.pki;
  const pki = options.pki ?? (await createTestPki());
  const pickPort = options.pickPort ?? freePort;
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-etcd-'));
  const server = pki.files('etcd');
  const listenArgs = (clientPort: number, peerPort: number) => {
    const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
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
      ...(tls ? ['--client-cert-auth', '--trusted-ca-file', server.caFile, '--cert-file', server.certFile, '--key-file', server.keyFile] : []),
    ];
    return { endpoint, args };
  };
  let { endpoint, args } = listenArgs(await pickPort(), await pickPort());
  let proc: ManagedProcess | undefined;
  const start = async () => {
    proc = spawnProcess(etcdBinary(), args);
    const running = proc;
    const outcome = await waitFor(`etcd on ${endpoint}`, async () => {
      if (running.child.exitCode !== null) return 'exited';
      const body = JSON.parse(tls ? await httpsGet(`${endpoint}/health`, pki) : await (await fetch(`${endpoint}/health`)).text()) as { health?: string };
      return body.health === 'true' ? 'healthy' : undefined;
    });
    if (outcome === 'exited') throw new Error(`etcd exited: ${running.output().slice(-2000)}`);
  };
  const halt = async (signal: NodeJS.Signals) => {
    if (proc) await proc.stop(signal);
    proc = undefined;
  };
  // A port free a moment ago can be taken by another process before etcd binds it (many test
  // files start services at once): the first start picks new ports then, a restart never does.
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (err) {
      if (!(err instanceof Error && /address already in use/.test(err.message)) || attempt === 3) throw err;
      await halt('SIGKILL');
      // Nothing of the failed start may be taken for this member's history.
      rmSync(dataDir, { recursive: true, force: true });
      mkdirSync(dataDir);
      ({ endpoint, args } = listenArgs(await pickPort(), await pickPort()));
    }
  }
  return {
    endpoint,
    dataDir,
    quotaBytes,
    pki,
    security: tls ? pki.security('admin') : { mode: 'insecure-dev' },
    tls,
    start,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    async destroy() {
      await halt('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
      if (ownPki) pki.destroy();
    },
  };
}
