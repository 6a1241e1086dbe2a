import { has, topLevelWith, type RepoFiles } from './repo-files';

/** The language stacks the builder can generate a Dockerfile for. */
export const STACKS = ['nodejs', 'python', 'go', 'java-maven', 'java-gradle', 'php', 'static'] as const;
export type StackName = (typeof STACKS)[number];

export type Detection =
  /** The source brings its own Dockerfile: it wins over any language found beside it. */
  | { stack: 'dockerfile'; reason: string; dockerfile: string }
  | { stack: StackName; reason: string }
  /** Nothing the builder knows: the build fails with this reason. */
  | { stack: null; reason: string };

/** A static site's document root: where its index.html is. */
export const STATIC_ROOTS = ['', 'public/', 'dist/', 'build/', 'site/', '_site/'] as const;

interface Rule {
  stack: StackName;
  /** Why, when it matches. */
  test(files: RepoFiles): string | undefined;
}

const found = (what: string) => `found ${what} in the build directory`;

// In order: the first rule that matches decides. A package.json beside other manifests is
// usually the app's own (Node.js apps with a Python tool, say), so Node.js goes first, as on
// Heroku; JVM and Go manifests are unambiguous; loose *.py, *.php and index.html come last.
const RULES: Rule[] = [
  { stack: 'nodejs', test: (f) => (has(f, 'package.json') ? found('package.json') : undefined) },
  { stack: 'java-maven', test: (f) => (has(f, 'pom.xml') ? found('pom.xml (Maven)') : undefined) },
  {
    stack: 'java-gradle',
    test: (f) => {
      const file = ['build.gradle', 'build.gradle.kts'].find((p) => has(f, p));
      return file ? found(`${file} (Gradle)`) : undefined;
    },
  },
  {
    stack: 'go',
    test: (f) => {
      if (has(f, 'go.mod')) return found('go.mod');
      const go = topLevelWith(f, '.go');
      return go.length ? found(`Go sources (${go.slice(0, 3).join(', ')}) without go.mod`) : undefined;
    },
  },
  {
    stack: 'python',
    test: (f) => {
      const manifest = ['requirements.txt', 'pyproject.toml', 'Pipfile', 'setup.py'].find((p) => has(f, p));
      if (manifest) return found(manifest);
      const py = topLevelWith(f, '.py');
      return py.length ? found(`Python sources (${py.slice(0, 3).join(', ')})`) : undefined;
    },
  },
  {
    stack: 'php',
    test: (f) => {
      if (has(f, 'composer.json')) return found('composer.json');
      if (has(f, 'index.php')) return found('index.php');
      if (has(f, 'public/index.php')) return found('public/index.php');
      return undefined;
    },
  },
  {
    stack: 'static',
    test: (f) => {
      const root = STATIC_ROOTS.find((r) => has(f, `${r}index.html`));
      return root === undefined ? undefined : found(`${root}index.html and no application manifest (a static site)`);
    },
  },
];

const LOOKED_FOR =
  'a Dockerfile, package.json (Node.js), pom.xml or build.gradle (Java), go.mod or *.go (Go), requirements.txt, pyproject.toml or *.py (Python), composer.json or index.php (PHP), index.html (static site)';

/** Which stack builds these files, and why; a Dockerfile at the build directory's root wins. */
export function detect(files: RepoFiles): Detection {
  const dockerfile = ['Dockerfile', 'Containerfile'].find((p) => has(files, p));
  if (dockerfile) return { stack: 'dockerfile', reason: `${found(dockerfile)}: it is used as is`, dockerfile };
  for (const rule of RULES) {
    const reason = rule.test(files);
    if (reason) return { stack: rule.stack, reason };
  }
  const seen = [...files.paths].filter((p) => !p.includes('/') || (p.endsWith('/') && p.split('/').length === 2)).sort();
  return {
    stack: null,
    reason: `cannot detect the language: looked for ${LOOKED_FOR}; found ${seen.length ? seen.slice(0, 12).join(', ') + (seen.length > 12 ? ', ...' : '') : 'no files'}`,
  };
}
