import { ChildProcess, spawn } from 'node:child_process';

export interface ManagedProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the first match of `pattern` in the output, or rejects when the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends a signal to this process (by its pid) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

const live = new Set<ManagedProcess>();
process.once('exit', () => {
  for (const p of live) p.child.kill('SIGKILL');
});

/** Spawns a child we own; it is killed if the test process exits without stopping it. */
export function spawnProcess(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ManagedProcess {
  const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 1_000_000) out = out.slice(-500_000);
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  let done = false;
  void exited.then(() => {
    done = true;
    live.delete(managed);
    for (const l of listeners) l();
  });
  if (child.pid === undefined) throw new Error(`cannot spawn ${command}`);
  const managed: ManagedProcess = {
    pid: child.pid,
    child,
    output: () => out,
    exited,
    waitForOutput(pattern, timeoutMs = 20000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern} from ${command}; output:\n${out.slice(-4000)}`)), timeoutMs);
        const check = () => {
          const m = out.match(pattern);
          if (m) finish(undefined, m);
          else if (done) finish(new Error(`${command} exited before printing ${pattern}; output:\n${out.slice(-4000)}`));
        };
        const finish = (err?: Error, m?: RegExpMatchArray) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (err) reject(err);
          else resolve(m!);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (!done) process.kill(child.pid!, signal);
      return exited;
    },
  };
  live.add(managed);
  return managed;
}
