import { hashSync } from 'bcryptjs';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports';
import { spawnProcess, type ManagedProcess } from './process';

export interface RegistryInstance {
  /** HOST:PORT on 127.0.0.1, what image refs start with. */
  readonly address: string;
  readonly username: string;
  readonly password: string;
  readonly dir: string;
  stop(): Promise<void>;
  /** Stops and removes its storage. */
  destroy(): Promise<void>;
}

/**
 * A real OCI registry (Debian's docker-registry) on a free 127.0.0.1 port with its own storage
 * and htpasswd credentials (bcrypt, as the registry requires). Docker treats 127.0.0.0/8 as an
 * insecure registry, so no engine setting is needed.
 */
export async function startRegistry(options: { username?: string; password?: string } = {}): Promise<RegistryInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-registry-'));
  const port = await freePort();
  const username = options.username ?? 'wharf';
  const password = options.password ?? randomBytes(12).toString('hex');
  writeFileSync(join(dir, 'htpasswd'), `${username}:${hashSync(password, 8)}\n`);
  const address = `127.0.0.1:${port}`;
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${address}`,
      `  secret: ${randomBytes(16).toString('hex')}`,
      'auth:',
      '  htpasswd:',
      '    realm: wharf-registry',
      `    path: ${join(dir, 'htpasswd')}`,
      '',
    ].join('\n'),
  );
  const proc: ManagedProcess = spawnProcess('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')]);
  await waitFor(`registry on ${address}`, async () => {
    if (proc.child.exitCode !== null) throw new Error(`docker-registry exited: ${proc.output().slice(-2000)}`);
    const res = await fetch(`http://${address}/v2/`);
    return res.status === 401 ? true : undefined;
  });
  const stop = async () => void (await proc.stop('SIGTERM'));
  return {
    address,
    username,
    password,
    dir,
    stop,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
