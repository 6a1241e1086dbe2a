import semver from 'semver';
import type { StackName } from './detect';
import type { RepoFiles } from './repo-files';

/** A runtime version the source asks for, and how to compare it. */
export interface RuntimeRequest {
  /** Where it was found, e.g. "package.json engines.node". */
  source: string;
  /** As written, e.g. ">=20" or "1.21". */
  requested: string;
  /**
   * range: a semver range the version must satisfy (npm's engines, composer's require.php);
   * minimum: the version must be at least this (go.mod's go line, Java's release).
   */
  kind: 'range' | 'minimum';
}

const first = (text: string, re: RegExp) => re.exec(text)?.[1]?.trim();

function nodeRequests(files: RepoFiles): RuntimeRequest[] {
  const out: RuntimeRequest[] = [];
  const pkg = files.contents['package.json'];
  if (pkg) {
    try {
      const engines = (JSON.parse(pkg) as { engines?: { node?: unknown } }).engines;
      if (typeof engines?.node === 'string' && engines.node.trim())
        out.push({ source: 'package.json engines.node', requested: engines.node.trim(), kind: 'range' });
    } catch {
      // An unreadable package.json is reported by the generator.
    }
  }
  for (const file of ['.nvmrc', '.node-version']) {
    const v = files.contents[file]?.trim().replace(/^v/, '');
    if (v && /^\d+(\.\d+){0,2}$/.test(v)) out.push({ source: file, requested: v, kind: 'range' });
  }
  return out;
}

/** PEP 440 specifiers as a semver range, for the common forms (>=3.10, ==3.11.*, ~=3.9, <4). */
function pep440ToRange(spec: string): string {
  return spec
    .split(',')
    .map((part) => {
      const p = part.trim();
      const m = /^(==|~=|>=|<=|>|<|!=)?\s*([\d.*]+)$/.exec(p);
      if (!m) return p;
      const [, op = '==', v] = m;
      if (op === '==') return v.replace(/\.\*$/, '.x');
      if (op === '~=') return `~${v}`;
      if (op === '!=') return `<${v} || >${v}`;
      return `${op}${v}`;
    })
    .join(' ');
}

function pythonRequests(files: RepoFiles): RuntimeRequest[] {
  const out: RuntimeRequest[] = [];
  const pinned = files.contents['.python-version']?.trim().split(/\s+/)[0];
  if (pinned && /^\d+\.\d+(\.\d+)?$/.test(pinned)) out.push({ source: '.python-version', requested: pinned, kind: 'range' });
  const runtime = first(files.contents['runtime.txt'] ?? '', /^python-(\d+\.\d+(?:\.\d+)?)/m);
  if (runtime) out.push({ source: 'runtime.txt', requested: runtime, kind: 'range' });
  const requires = first(files.contents['pyproject.toml'] ?? '', /^\s*requires-python\s*=\s*["']([^"']+)["']/m);
  if (requires) out.push({ source: 'pyproject.toml requires-python', requested: requires, kind: 'range' });
  return out;
}

function goRequests(files: RepoFiles): RuntimeRequest[] {
  const v = first(files.contents['go.mod'] ?? '', /^go\s+(\d+\.\d+(?:\.\d+)?)\s*$/m);
  return v ? [{ source: 'go.mod go line', requested: v, kind: 'minimum' }] : [];
}

function javaRequests(files: RepoFiles): RuntimeRequest[] {
  const out: RuntimeRequest[] = [];
  const props = first(files.contents['system.properties'] ?? '', /^java\.runtime\.version\s*=\s*(\S+)/m);
  if (props) out.push({ source: 'system.properties java.runtime.version', requested: props.replace(/^1\./, ''), kind: 'minimum' });
  const pom = files.contents['pom.xml'] ?? '';
  for (const tag of ['maven.compiler.release', 'maven.compiler.source', 'java.version']) {
    const v = first(pom, new RegExp(`<${tag.replace(/\./g, '\\.')}>\\s*([\\d.]+)\\s*</`));
    if (v) {
      out.push({ source: `pom.xml ${tag}`, requested: v.replace(/^1\./, ''), kind: 'minimum' });
      break;
    }
  }
  const gradle = (files.contents['build.gradle'] ?? '') + '\n' + (files.contents['build.gradle.kts'] ?? '');
  const g =
    first(gradle, /JavaLanguageVersion\.of\(\s*(\d+)\s*\)/) ??
    first(gradle, /sourceCompatibility\s*=\s*(?:JavaVersion\.VERSION_)?['"]?(\d+(?:[._]\d+)?)/) ??
    first(gradle, /JavaVersion\.VERSION_(\d+)/);
  if (g) out.push({ source: 'build.gradle Java version', requested: g.replace('_', '.').replace(/^1\./, ''), kind: 'minimum' });
  return out;
}

function phpRequests(files: RepoFiles): RuntimeRequest[] {
  const composer = files.contents['composer.json'];
  if (!composer) return [];
  try {
    const php = (JSON.parse(composer) as { require?: { php?: unknown } }).require?.php;
    return typeof php === 'string' && php.trim() ? [{ source: 'composer.json require.php', requested: php.trim(), kind: 'range' }] : [];
  } catch {
    return [];
  }
}

/** The runtime versions the source asks for. */
export function runtimeRequests(stack: StackName, files: RepoFiles): RuntimeRequest[] {
  switch (stack) {
    case 'nodejs':
      return nodeRequests(files);
    case 'python':
      return pythonRequests(files);
    case 'go':
      return goRequests(files);
    case 'java-maven':
    case 'java-gradle':
      return javaRequests(files);
    case 'php':
      return phpRequests(files);
    case 'static':
      return [];
  }
}

/** Whether `provided` (the stack's real version, e.g. "18.19.0") meets the request; undefined when the request cannot be read. */
export function meets(request: RuntimeRequest, provided: string): boolean | undefined {
  const have = semver.coerce(provided);
  if (!have) return undefined;
  if (request.kind === 'minimum') {
    const want = semver.coerce(request.requested);
    return want ? semver.gte(have, want) : undefined;
  }
  // composer writes "||" as "|" and both use "," for "and".
  const text = request.source.startsWith('pyproject')
    ? pep440ToRange(request.requested)
    : request.requested.replace(/(?<!\|)\|(?!\|)/g, '||').replace(/,/g, ' ');
  const range = semver.validRange(text, { loose: true });
  if (!range) return undefined;
  return semver.satisfies(have, range, { loose: true, includePrerelease: false });
}

/**
 * The log's warnings for the versions the stack does not have (the build goes on with what
 * the stack has: Debian ships one version per language and nothing else can be fetched).
 */
export function runtimeWarnings(stack: StackName, files: RepoFiles, provided: string): string[] {
  const out: string[] = [];
  for (const r of runtimeRequests(stack, files)) {
    const ok = meets(r, provided);
    if (ok === false) out.push(`${r.source} asks for ${r.requested}, but the ${stack} stack has ${provided}: building with ${provided}`);
    else if (ok === undefined) out.push(`${r.source} asks for ${JSON.stringify(r.requested)}, which cannot be compared with the stack's ${provided}`);
  }
  return out;
}
