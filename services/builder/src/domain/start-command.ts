import { FailedPreconditionError } from '@wharf/errors';
import { STATIC_ROOTS, type StackName } from './detect';
import { has, topLevelWith, type RepoFiles } from './repo-files';

/** How the image starts: the CMD, and why the log says it is that one. */
export interface StartCommand {
  /** exec-form CMD. */
  argv: string[];
  why: string;
}

/** `web: node server.js` -> { web: 'node server.js' } (Heroku's Procfile: one `type: command` per line). */
export function parseProcfile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Za-z0-9_-]+):\s*(.+?)\s*$/.exec(line);
    if (m && !(m[1] in out)) out[m[1]] = m[2];
  }
  return out;
}

/** A shell command run as PID 1 (exec, so signals reach the app), with $PORT expanded at start. */
export const shell = (command: string): string[] => ['/bin/sh', '-c', `exec ${command}`];

function procfileWeb(files: RepoFiles): StartCommand | undefined {
  const text = files.contents['Procfile'];
  const web = text === undefined ? undefined : parseProcfile(text).web;
  return web ? { argv: shell(web), why: 'the web: line of the Procfile' } : undefined;
}

export interface PackageJson {
  main?: unknown;
  scripts?: Record<string, unknown>;
}

/** package.json as an object; FailedPreconditionError naming the problem when it is not one. */
export function readPackageJson(files: RepoFiles): PackageJson {
  const text = files.contents['package.json'];
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new FailedPreconditionError(`package.json cannot be read: ${(err as Error).message}`, { reason: 'cannot_generate' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FailedPreconditionError('package.json cannot be read: it is not a JSON object', { reason: 'cannot_generate' });
  }
  return parsed as PackageJson;
}

const NODE_ENTRIES = ['server.js', 'index.js', 'app.js', 'main.js', 'server.mjs', 'index.mjs'];
const PYTHON_ENTRIES = ['app.py', 'main.py', 'server.py', 'wsgi.py'];

/** The conventional start command of each stack, or the reason there is none. */
export function startCommand(
  stack: StackName,
  files: RepoFiles,
  options: { goBinary: string; staticRoot: string; phpRoot: string },
): StartCommand | { error: string } {
  const procfile = procfileWeb(files);
  switch (stack) {
    case 'nodejs': {
      if (procfile) return procfile;
      const pkg = readPackageJson(files);
      if (typeof pkg.scripts?.start === 'string') return { argv: ['npm', 'start'], why: `package.json scripts.start (${pkg.scripts.start})` };
      if (typeof pkg.main === 'string' && pkg.main.trim()) return { argv: ['node', pkg.main.trim()], why: 'package.json main' };
      const entry = NODE_ENTRIES.find((f) => has(files, f));
      if (entry) return { argv: ['node', entry], why: `${entry} (no scripts.start or main in package.json)` };
      return { error: `no start command: add scripts.start or main to package.json, a Procfile with a web: line, or one of ${NODE_ENTRIES.join(', ')}` };
    }
    case 'python': {
      if (procfile) return procfile;
      if (has(files, 'manage.py')) return { argv: shell('python3 manage.py runserver 0.0.0.0:${PORT}'), why: 'manage.py (Django)' };
      const entry = PYTHON_ENTRIES.find((f) => has(files, f));
      if (entry) return { argv: ['python3', entry], why: entry };
      const py = topLevelWith(files, '.py');
      if (py.length === 1) return { argv: ['python3', py[0]], why: `${py[0]}, the only Python file at the root` };
      return { error: `no start command: add a Procfile with a web: line, or one of ${PYTHON_ENTRIES.join(', ')}` };
    }
    case 'go':
      return procfile ?? { argv: [options.goBinary], why: 'the compiled main package' };
    case 'java-maven':
    case 'java-gradle':
      return procfile ?? { argv: shell('java ${JAVA_OPTS:-} -jar /app/app.jar'), why: 'the jar the build made' };
    case 'php':
      return procfile ?? { argv: shell(`php -S 0.0.0.0:\${PORT} -t ${options.phpRoot}`), why: `PHP's built-in server on ${options.phpRoot}` };
    case 'static':
      return { argv: shell(`busybox httpd -f -v -p \${PORT} -h /srv/www`), why: `a static web server on ${options.staticRoot || '.'}/` };
  }
}

export function staticRoot(files: RepoFiles): string {
  return STATIC_ROOTS.find((r) => has(files, `${r}index.html`)) ?? '';
}
