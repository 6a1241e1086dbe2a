import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

// The layout is the architecture: services never import each other, libraries never
// import services, and nobody reaches into another project's files by relative path.
const root = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  let out: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist' || name === 'gen') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(sources(path));
    else if (name.endsWith('.ts') || name.endsWith('.tsx')) out.push(path);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
}

function projectOf(path: string): string | undefined {
  const m = relative(root, path).match(/^(libs|services|console)\/([^/]+)/);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

function manifestOf(project: string): { name?: string; dependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(join(root, project, 'package.json'), 'utf8'));
}

function declared(project: string, pkg: string): string | undefined {
  return manifestOf(project).dependencies?.[pkg] ? `${project}/package.json` : undefined;
}

const serviceNames = (() => {
  try {
    return readdirSync(join(root, 'services'));
  } catch {
    return [];
  }
})();

describe('module boundaries', () => {
  const files = [...sources(join(root, 'libs')), ...sources(join(root, 'services')), ...sources(join(root, 'console'))];

  it('finds the sources it checks', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((f) => [relative(root, f)]))('%s imports only what its layer allows', (rel) => {
    const file = join(root, rel);
    const own = projectOf(file)!;
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) {
        const target = projectOf(join(file, '..', spec));
        expect({ spec, target }).toEqual({ spec, target: own });
      }
      const pkg = spec.match(/^@wharf\/([^/]+)/)?.[1];
      if (pkg && !/\.(integration-)?spec\.ts$|^(libs|services|console)\/[^/]+\/test\//.test(rel) && `@wharf/${pkg}` !== manifestOf(own).name) {
        // Nx orders builds by package.json dependencies: an undeclared one races the build.
        expect({ spec, declaredIn: `${own}/package.json` }).toEqual({ spec, declaredIn: declared(own, `@wharf/${pkg}`) });
      }
      if (pkg) {
        expect({ spec, importsService: serviceNames.some((s) => pkg === s || pkg === `${s}-service`) }).toEqual({ spec, importsService: false });
        expect(spec).toMatch(/^@wharf\/[^/]+$/); // public API only, no deep imports
      }
    }
  });
});
