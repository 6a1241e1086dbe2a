import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { LIST_DEPTH, MANIFESTS, MAX_MANIFEST_BYTES, repoFiles, type RepoFiles } from '../domain/repo-files';

/** A build's scratch directories, removed when the build ends. */
export interface Workspace {
  root: string;
  /** Where the source is checked out. */
  source: string;
  /** Credentials files for git (never inside source). */
  secrets: string;
  /** Generated Dockerfile, docker config. */
  gen: string;
  dispose(): void;
}

export class WorkspaceAdapter {
  constructor(private readonly workDir: string) {
    mkdirSync(join(workDir, 'builds'), { recursive: true, mode: 0o700 });
  }

  create(label: string): Workspace {
    const root = mkdtempSync(join(this.workDir, 'builds', `${label.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}-`));
    const ws = { root, source: join(root, 'src'), secrets: join(root, 'secrets'), gen: join(root, 'gen') };
    mkdirSync(ws.secrets, { mode: 0o700 });
    mkdirSync(ws.gen);
    return { ...ws, dispose: () => rmSync(root, { recursive: true, force: true }) };
  }

  /** Removes builds' directories left by a process that died mid-build. */
  sweep(olderThanMs: number, nowMs: number): number {
    let removed = 0;
    const dir = join(this.workDir, 'builds');
    for (const name of readdirSync(dir)) {
      try {
        if (nowMs - statSync(join(dir, name)).mtimeMs <= olderThanMs) continue;
        rmSync(join(dir, name), { recursive: true, force: true });
        removed++;
      } catch {
        // Removed meanwhile by its own build.
      }
    }
    return removed;
  }
}

/**
 * `inner` inside `root` once symbolic links are resolved: a repository may hold a link
 * named like a sub-directory that points anywhere on the builder's host.
 */
export function resolveInside(root: string, inner: string, what: string): string {
  const realRoot = realpathSync(root);
  let real: string;
  try {
    real = realpathSync(join(root, inner));
  } catch {
    throw new Error(`${what} ${JSON.stringify(inner || '.')} does not exist in the repository`);
  }
  const rel = relative(realRoot, real);
  if (rel.startsWith('..') || rel.startsWith(sep)) throw new Error(`${what} ${JSON.stringify(inner)} points outside the repository`);
  return real;
}

/** The paths (two levels) and manifest contents of a build directory, for detection. */
export function readRepoFiles(dir: string): RepoFiles {
  const paths: string[] = [];
  const walk = (at: string, prefix: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(at, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.slice(0, 5000)) {
      if (e.name === '.git') continue;
      if (e.isDirectory()) {
        paths.push(`${prefix}${e.name}/`);
        if (depth < LIST_DEPTH) walk(join(at, e.name), `${prefix}${e.name}/`, depth + 1);
      } else paths.push(`${prefix}${e.name}`);
    }
  };
  walk(dir, '', 1);
  const contents: Record<string, string> = {};
  for (const name of MANIFESTS) {
    const path = join(dir, name);
    try {
      const st = lstatSync(path);
      if (!st.isFile() || st.size > MAX_MANIFEST_BYTES) continue;
      contents[name] = readFileSync(path, 'utf8');
    } catch {
      // absent
    }
  }
  return repoFiles(paths, contents);
}

/** Bytes under dir (files only, links not followed); stops counting once past `stopAt`. */
export function directorySize(dir: string, stopAt = Number.MAX_SAFE_INTEGER): number {
  let total = 0;
  const stack = [dir];
  while (stack.length && total <= stopAt) {
    const at = stack.pop()!;
    let entries;
    try {
      entries = readdirSync(at, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = join(at, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) {
        try {
          total += lstatSync(p).size;
        } catch {
          // vanished
        }
      }
    }
  }
  return total;
}
