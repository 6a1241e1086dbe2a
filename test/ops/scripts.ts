import { freePort } from '@wharf/testing';
import { execFile } from 'node:child_process';
import { join } from 'node:path';

// What the up/down e2e tests share: running scripts/*.sh as a user does, and a state dir with ports of its own.

export const ROOT = join(__dirname, '..', '..');

export function runScript(script: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('bash', [join(ROOT, 'scripts', script), ...args], { cwd: ROOT, env, timeout: 900_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}` }),
    );
  });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const PORT_NAMES = [
  'ETCD',
  'ETCD_PEER',
  'MQ_GRPC',
  'MQ_HTTP',
  'API',
  'EVENTLOG_GRPC',
  'EVENTLOG_HTTP',
  'REGISTRY',
  'APPMGR_GRPC',
  'APPMGR_HTTP',
  'BUILDER_HTTP',
  'NODEMGR_HTTP',
  'LB_HTTP',
  'LB_HTTPS',
  'LB_ADMIN',
  'CONSOLE',
];

/** The environment of `npm run up` on `state` with free ports of its own and a data center name of its own. */
export async function upEnvironment(state: string, dataCenter: string): Promise<NodeJS.ProcessEnv> {
  const ports: Record<string, string> = {};
  for (const name of PORT_NAMES) ports[`WHARF_${name}_PORT`] = String(await freePort());
  const env: NodeJS.ProcessEnv = { ...process.env, ...ports, WHARF_STATE_DIR: state, WHARF_DATA_CENTER: dataCenter };
  // The runtime is chosen by each test, not inherited from the shell that runs jest.
  delete env.WHARF_RUNTIME;
  delete env.WHARF_KUBECONFIG;
  return env;
}
