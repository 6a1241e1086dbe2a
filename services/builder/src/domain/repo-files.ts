/**
 * What the detector and the Dockerfile generator see of a checked-out source: the paths of
 * its build directory (two levels deep, directories with a trailing '/') and the contents of
 * the manifests they read. The workspace adapter collects it; everything that reads it is pure.
 */
export interface RepoFiles {
  readonly paths: ReadonlySet<string>;
  /** Contents of the files named in MANIFESTS that exist (each at most MAX_MANIFEST_BYTES). */
  readonly contents: Readonly<Record<string, string>>;
}

/** The files whose contents detection and generation read. */
export const MANIFESTS = [
  'Dockerfile',
  'Containerfile',
  'package.json',
  '.nvmrc',
  '.node-version',
  'Procfile',
  'requirements.txt',
  'pyproject.toml',
  'runtime.txt',
  '.python-version',
  'go.mod',
  'pom.xml',
  'build.gradle',
  'build.gradle.kts',
  'settings.gradle',
  'system.properties',
  'composer.json',
] as const;

export const MAX_MANIFEST_BYTES = 256 * 1024;

/** How deep the adapter lists paths (a/b is depth 2). */
export const LIST_DEPTH = 2;

export function repoFiles(paths: Iterable<string>, contents: Record<string, string> = {}): RepoFiles {
  return { paths: new Set(paths), contents };
}

export function has(files: RepoFiles, path: string): boolean {
  return files.paths.has(path);
}

/** Top-level files with this extension, e.g. '.py'. */
export function topLevelWith(files: RepoFiles, extension: string): string[] {
  return [...files.paths].filter((p) => !p.includes('/') && p.endsWith(extension)).sort();
}
