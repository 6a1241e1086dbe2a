import { InvalidArgumentError } from '@wharf/errors';

/**
 * Everything of a git source that reaches git's command line, validated: git and its
 * transports interpret option-looking values (`--upload-pack=...`), local paths and helper
 * transports (`ext::sh -c ...`, `file://`) as instructions, so only network URLs of known
 * schemes and well-formed ref names get through. Values that pass are still passed after
 * `--` and as argv entries, never through a shell.
 */
export type GitScheme = 'https' | 'http' | 'ssh' | 'git';

export interface GitUrl {
  /** The URL as git gets it. */
  url: string;
  scheme: GitScheme;
  host: string;
  /** Safe to log: the URL without any user part. */
  display: string;
}

const SCHEMES: readonly GitScheme[] = ['https', 'http', 'ssh', 'git'];
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[[0-9A-Fa-f:.]+\]$/;
// user@host:path (scp-like ssh); the path must not start with '/' twice or '-'.
const SCP = /^([A-Za-z0-9._-]{1,64})@([A-Za-z0-9.-]{1,253}):(?!\/\/)([A-Za-z0-9._~/-][A-Za-z0-9._~/+@-]*)$/;

const bad = (field: string, why: string) => new InvalidArgumentError(`${field}: ${why}`, { field });

export function parseGitUrl(raw: string, field = 'source.git.url'): GitUrl {
  const url = raw.trim();
  if (!url) throw bad(field, 'is required');
  if (url.length > 2048) throw bad(field, 'is longer than 2048 characters');
  if (url.startsWith('-')) throw bad(field, `${JSON.stringify(url)} looks like a command-line option, not a repository URL`);
  if (/[\s\x00-\x1f\x7f]/.test(url)) throw bad(field, 'contains white space or control characters');
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(url))
    throw bad(
      field,
      `${JSON.stringify(url.split('::')[0] + '::')} is a git remote helper transport, which can run commands: use https://, ssh://, git:// or git@host:path`,
    );
  const scp = SCP.exec(url);
  if (scp && !url.includes('://')) {
    const [, , host] = scp;
    if (!HOST.test(host)) throw bad(field, `${JSON.stringify(host)} is not a host name`);
    return { url, scheme: 'ssh', host, display: url.replace(/^[^@]+@/, '') };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (!scheme) {
    throw bad(field, `${JSON.stringify(url)} is not a repository URL (a local path or an unknown form): use https://, ssh://, git:// or git@host:path`);
  }
  if (!(SCHEMES as readonly string[]).includes(scheme)) throw bad(field, `scheme ${scheme}:// is not allowed: use https://, ssh://, git:// or git@host:path`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad(field, `${JSON.stringify(url)} is not a valid URL`);
  }
  if (!parsed.hostname || !HOST.test(parsed.hostname)) throw bad(field, `${JSON.stringify(url)} has no valid host`);
  if (parsed.password || (parsed.username && scheme !== 'ssh')) {
    // A token in the URL would be written to .git/config and shown in every error message.
    throw bad(field, "must not carry credentials: give the token in the component's build credentials instead");
  }
  if (!parsed.pathname || parsed.pathname === '/') throw bad(field, `${JSON.stringify(url)} names no repository`);
  if (parsed.pathname.split('/').some((seg) => seg.startsWith('-'))) throw bad(field, 'has a path segment starting with "-"');
  const display = `${scheme}://${parsed.host}${parsed.pathname}`;
  return { url, scheme: scheme as GitScheme, host: parsed.hostname, display };
}

export type GitRef = { kind: 'branch'; name: string } | { kind: 'ref'; name: string } | { kind: 'commit'; sha: string };

/** Names git accepts as branches and tags (git check-ref-format), minus anything option-like. */
export function assertRefName(name: string, field: string): void {
  if (!name) throw bad(field, 'is required');
  if (name.length > 255) throw bad(field, 'is longer than 255 characters');
  if (name.startsWith('-')) throw bad(field, `${JSON.stringify(name)} looks like a command-line option, not a branch or tag`);
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) throw bad(field, `${JSON.stringify(name)} contains characters git does not allow in a ref name`);
  if (name.includes('..') || name.includes('@{') || name.includes('//') || name === '@') throw bad(field, `${JSON.stringify(name)} is not a valid ref name`);
  if (name.startsWith('/') || name.endsWith('/') || name.endsWith('.') || name.endsWith('.lock'))
    throw bad(field, `${JSON.stringify(name)} is not a valid ref name`);
  if (name.split('/').some((part) => part.startsWith('.'))) throw bad(field, `${JSON.stringify(name)} has a component starting with "."`);
}

/** What to check out: the options' ref (a tag or a commit) wins over the branch. */
export function resolveRef(branch: string, ref: string): GitRef {
  if (ref) {
    if (/^[0-9a-fA-F]{7,40}$/.test(ref)) return { kind: 'commit', sha: ref.toLowerCase() };
    assertRefName(ref, 'options.ref');
    return { kind: 'ref', name: ref };
  }
  const name = branch || 'main';
  assertRefName(name, 'source.git.branch');
  return { kind: 'branch', name };
}

/**
 * A path inside the repository (sub-directory, Dockerfile): relative, normalised, never
 * leaving the repository. '' stays '' (the root).
 */
export function safeRelativePath(raw: string, field: string): string {
  const p = raw.trim().replace(/^\.\/+/, '');
  if (!p || p === '.') return '';
  if (p.length > 1024) throw bad(field, 'is longer than 1024 characters');
  if (/[\x00-\x1f\x7f\\]/.test(p)) throw bad(field, 'contains control characters or backslashes');
  if (p.startsWith('/')) throw bad(field, `${JSON.stringify(raw)} must be relative to the repository's root`);
  const parts = p.split('/').filter((s) => s && s !== '.');
  if (parts.some((s) => s === '..')) throw bad(field, `${JSON.stringify(raw)} leaves the repository`);
  if (parts.some((s) => s.startsWith('-'))) throw bad(field, `${JSON.stringify(raw)} has a part starting with "-"`);
  return parts.join('/');
}

/** Build-argument names as the Dockerfile ARG instruction accepts them; values must fit one line. */
export function assertBuildArgs(args: Record<string, string>): void {
  const entries = Object.entries(args);
  if (entries.length > 64) throw bad('options.build_args', `has ${entries.length} entries (at most 64)`);
  for (const [k, v] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(k)) throw bad(`options.build_args.${k}`, 'must be a name of letters, digits and _ not starting with a digit');
    if (v.length > 4096 || /[\x00\r\n]/.test(v)) throw bad(`options.build_args.${k}`, 'must be one line of at most 4096 characters');
  }
}

/** A Dockerfile stage name (--target). */
export function assertTarget(target: string): void {
  if (target && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(target)) throw bad('options.target', `${JSON.stringify(target)} is not a stage name`);
}
