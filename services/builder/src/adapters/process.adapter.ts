import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface RunOptions {
  /** The child's whole environment (never ours: it holds the data center's secret key). */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Aborting stops the child: SIGTERM, then SIGKILL after killAfterMs. */
  signal?: AbortSignal;
  killAfterMs?: number;
  /** Each line of stdout and stderr, as it comes. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Bytes written to stdin, then closed. */
  stdin?: Buffer | string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Aborted through options.signal. */
  aborted: boolean;
}

const SETPRIV = '/usr/bin/setpriv';

/**
 * Runs a program from an argv array (never a shell). On Linux the child is started under
 * `setpriv --pdeathsig KILL`, so it dies with us even on kill -9: a builder killed mid-build
 * leaves no docker build or git running on its own.
 */
export function runProcess(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const [cmd, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, [...args]];
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return resolve({ code: null, signal: null, aborted: true });
    const child = spawn(cmd, argv, { env: options.env, cwd: options.cwd, stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let aborted = false;
    let killer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      aborted = true;
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 5000);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const splitter = (stream: 'stdout' | 'stderr') => {
      let rest = '';
      return {
        data(chunk: Buffer) {
          rest += chunk.toString('utf8');
          const lines = rest.split(/\r?\n|\r(?!\n)/);
          rest = lines.pop() ?? '';
          // A single line longer than 64 KiB is cut so one runaway line cannot hold memory.
          if (rest.length > 65536) {
            lines.push(rest);
            rest = '';
          }
          for (const line of lines) options.onLine?.(line, stream);
        },
        end() {
          if (rest) options.onLine?.(rest, stream);
          rest = '';
        },
      };
    };
    const out = splitter('stdout');
    const err = splitter('stderr');
    child.stdout!.on('data', out.data);
    child.stderr!.on('data', err.data);
    if (options.stdin !== undefined) child.stdin!.end(options.stdin);
    child.once('error', (e) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (killer) clearTimeout(killer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      out.end();
      err.end();
      options.signal?.removeEventListener('abort', onAbort);
      if (killer) clearTimeout(killer);
      resolve({ code, signal, aborted });
    });
  });
}

/** A minimal environment for children: a PATH, a HOME of their own, a C locale. */
export function childEnv(home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: home, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}
