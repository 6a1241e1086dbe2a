import { FailedPreconditionError } from '@wharf/errors';
import type { StackName } from './detect';
import { has, topLevelWith, type RepoFiles } from './repo-files';
import { readPackageJson, startCommand, staticRoot, type PackageJson } from './start-command';

/**
 * The build secret holding the CA bundle the host trusts. Egress may be TLS-inspected (it is
 * on these machines), so package managers inside a build are pointed at it; as a secret it is
 * mounted for one RUN and never stored in a layer.
 */
export const CA_SECRET_ID = 'wharf-ca';
const CA = `/run/secrets/${CA_SECRET_ID}`;
const CA_MOUNT = `--mount=type=secret,id=${CA_SECRET_ID},target=${CA}`;

/** PATH of every generated image (the debootstrapped base has none of its own). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface GenerateInput {
  stack: StackName;
  files: RepoFiles;
  /** The stack images to build on and to run on (the same for single-stage stacks). */
  images: { build: string; run: string };
  /**
   * Who the package-manager caches belong to (tenant and component): a cache mount is shared
   * only by builds of one component, so one tenant can never seed another's dependencies.
   */
  cacheScope: string;
  /** The port the app listens on ($PORT). */
  port: number;
}

export interface GeneratedBuild {
  dockerfile: string;
  /** Kept out of the build context (written as <Dockerfile>.dockerignore beside the generated Dockerfile). */
  dockerignore: string;
  /** The start command as the log shows it. */
  start: string;
  /** What the log says about the plan: how dependencies are installed and why this start command. */
  notes: string[];
}

const DOCKERIGNORE = ['.git', '.dockerignore', 'Dockerfile', 'node_modules', '__pycache__', '*.pyc', '.venv', 'target', '.gradle', 'vendor', ''].join('\n');

const cacheMount = (scope: string, name: string, target: string) => `--mount=type=cache,id=wharf-${scope}-${name},target=${target}`;

/** `COPY a b ./` for the manifests that exist, in a stable order. */
const copyExisting = (files: RepoFiles, names: string[], dest = './') => {
  const present = names.filter((n) => has(files, n));
  return present.length ? `COPY ${present.join(' ')} ${dest}` : undefined;
};

const cmd = (argv: string[]) => `CMD ${JSON.stringify(argv)}`;

function fail(message: string): never {
  throw new FailedPreconditionError(message, { reason: 'cannot_generate' });
}

function node(input: GenerateInput, notes: string[]): string[] {
  const pkg: PackageJson = readPackageJson(input.files);
  const lock = ['package-lock.json', 'npm-shrinkwrap.json'].find((f) => has(input.files, f));
  const builds = typeof pkg.scripts?.build === 'string';
  // npm ci installs exactly the lock; without one, npm install resolves the ranges.
  const install = `${lock ? 'npm ci' : 'npm install'}${builds ? '' : ' --omit=dev'} --no-audit --no-fund`;
  notes.push(`dependencies: ${install} (${lock ? `from ${lock}` : 'no package-lock.json: ranges resolved now'}), before the source is copied`);
  if (has(input.files, 'yarn.lock') && !lock) notes.push('yarn.lock is not used: the nodejs stack installs with npm');
  const lines = [
    `FROM ${input.images.build}`,
    'WORKDIR /app',
    `ENV PATH=${DEFAULT_PATH} PORT=${input.port}`,
    copyExisting(input.files, ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', '.npmrc'])!,
    `RUN ${cacheMount(input.cacheScope, 'npm', '/root/.npm')} ${CA_MOUNT} \\`,
    `    NPM_CONFIG_CAFILE=${CA} ${install}`,
    'COPY . .',
  ];
  if (builds) {
    notes.push('package.json has scripts.build: npm run build, then dev dependencies are pruned');
    lines.push(`RUN ${CA_MOUNT} NPM_CONFIG_CAFILE=${CA} npm run build && npm prune --omit=dev --no-audit --no-fund`);
  }
  lines.push('ENV NODE_ENV=production');
  return lines;
}

function python(input: GenerateInput, notes: string[]): string[] {
  const venv = '/opt/venv';
  const lines = [
    `FROM ${input.images.build}`,
    'WORKDIR /app',
    `ENV PATH=${venv}/bin:${DEFAULT_PATH} VIRTUAL_ENV=${venv} PORT=${input.port} PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1`,
    // System site packages: libraries installed from Debian's python3-* packages stay importable.
    `RUN python3 -m venv --system-site-packages ${venv}`,
  ];
  const pip = (args: string) => [`RUN ${cacheMount(input.cacheScope, 'pip', '/root/.cache/pip')} ${CA_MOUNT} \\`, `    PIP_CERT=${CA} pip install ${args}`];
  if (has(input.files, 'requirements.txt')) {
    notes.push('dependencies: pip install -r requirements.txt, before the source is copied');
    lines.push('COPY requirements.txt ./', ...pip('-r requirements.txt'), 'COPY . .');
  } else if (has(input.files, 'pyproject.toml') || has(input.files, 'setup.py')) {
    notes.push('dependencies: pip install . (pyproject.toml/setup.py need the source, so they are installed after it is copied)');
    lines.push('COPY . .', ...pip('.'));
  } else {
    notes.push('no requirements.txt or pyproject.toml: nothing to install');
    lines.push('COPY . .');
  }
  return lines;
}

function goPackage(files: RepoFiles): string {
  if (topLevelWith(files, '.go').length) return '.';
  const cmds = [...files.paths].filter((p) => /^cmd\/[^/]+\/$/.test(p)).sort();
  if (cmds.length === 1) return `./${cmds[0].slice(0, -1)}`;
  if (cmds.length > 1) fail(`several main packages under cmd/ (${cmds.join(', ')}) and none at the root: add a Procfile or a Dockerfile to choose`);
  fail('no Go main package at the root or under cmd/');
}

function go(input: GenerateInput, notes: string[]): string[] {
  const pkg = goPackage(input.files);
  const mod = cacheMount(input.cacheScope, 'gomod', '/root/go/pkg/mod');
  const lines = [
    `FROM ${input.images.build} AS build`,
    'WORKDIR /src',
    `ENV PATH=${DEFAULT_PATH} CGO_ENABLED=0 GOPATH=/root/go GOCACHE=/root/.cache/go-build GOFLAGS=-mod=mod`,
  ];
  if (has(input.files, 'go.mod')) {
    notes.push('dependencies: go mod download from go.mod/go.sum, before the source is copied');
    lines.push(copyExisting(input.files, ['go.mod', 'go.sum'])!, `RUN ${mod} ${CA_MOUNT} SSL_CERT_FILE=${CA} go mod download`, 'COPY . .');
  } else {
    notes.push('no go.mod: the sources are built as module "app" with the standard library only');
    lines.push('COPY . .', 'RUN go mod init app');
  }
  notes.push(`compiles ${pkg} into one static binary, run on the Debian base`);
  lines.push(
    `RUN ${mod} ${cacheMount(input.cacheScope, 'gobuild', '/root/.cache/go-build')} ${CA_MOUNT} \\`,
    `    SSL_CERT_FILE=${CA} go build -trimpath -o /out/app ${pkg}`,
    `FROM ${input.images.run}`,
    'WORKDIR /app',
    `ENV PATH=${DEFAULT_PATH} PORT=${input.port}`,
    'COPY --from=build /out/app /app/app',
  );
  return lines;
}

function javaMaven(input: GenerateInput, notes: string[]): string[] {
  notes.push("dependencies: mvn dependency:resolve from pom.xml, before the source is copied; then mvn package (Maven Central through the stack's mirror)");
  const m2 = cacheMount(input.cacheScope, 'm2', '/root/.m2');
  return [
    `FROM ${input.images.build} AS build`,
    'WORKDIR /src',
    `ENV PATH=${DEFAULT_PATH}`,
    'COPY pom.xml ./',
    `RUN ${m2} ${CA_MOUNT} mvn -B -ntp -q dependency:resolve`,
    'COPY . .',
    `RUN ${m2} ${CA_MOUNT} mvn -B -ntp -DskipTests package && cp "$(ls target/*.jar | grep -v -e '-sources' -e '-javadoc' | head -n 1)" /app.jar`,
    `FROM ${input.images.run}`,
    'WORKDIR /app',
    `ENV PATH=${DEFAULT_PATH} PORT=${input.port}`,
    'COPY --from=build /app.jar /app/app.jar',
  ];
}

function javaGradle(input: GenerateInput, notes: string[]): string[] {
  const wrapper = has(input.files, 'gradlew');
  const gradle = wrapper ? './gradlew' : 'gradle';
  notes.push(`builds with ${wrapper ? "the repository's gradlew" : "Debian's gradle"} (gradle build -x test); its caches in a cache mount`);
  const cache = cacheMount(input.cacheScope, 'gradle', '/root/.gradle');
  return [
    `FROM ${input.images.build} AS build`,
    'WORKDIR /src',
    `ENV PATH=${DEFAULT_PATH}`,
    copyExisting(input.files, ['build.gradle', 'build.gradle.kts', 'settings.gradle', 'settings.gradle.kts', 'gradle.properties', 'gradlew']) ??
      'COPY build.gradle ./',
    'COPY . .',
    `RUN ${cache} ${CA_MOUNT} ${gradle} --no-daemon build -x test && cp "$(ls build/libs/*.jar | grep -v -e '-plain' -e '-sources' | head -n 1)" /app.jar`,
    `FROM ${input.images.run}`,
    'WORKDIR /app',
    `ENV PATH=${DEFAULT_PATH} PORT=${input.port}`,
    'COPY --from=build /app.jar /app/app.jar',
  ];
}

function php(input: GenerateInput, notes: string[]): string[] {
  const lines = [`FROM ${input.images.build}`, 'WORKDIR /app', `ENV PATH=${DEFAULT_PATH} PORT=${input.port} COMPOSER_ALLOW_SUPERUSER=1`];
  if (has(input.files, 'composer.json')) {
    notes.push('dependencies: composer install --no-dev from composer.json/composer.lock, before the source is copied');
    lines.push(
      copyExisting(input.files, ['composer.json', 'composer.lock'])!,
      `RUN ${cacheMount(input.cacheScope, 'composer', '/root/.cache/composer')} ${CA_MOUNT} \\`,
      `    COMPOSER_CAFILE=${CA} composer install --no-dev --no-interaction --no-scripts --no-autoloader --prefer-dist`,
      'COPY . .',
      'RUN composer dump-autoload --no-dev --optimize --no-interaction',
    );
  } else {
    notes.push('no composer.json: nothing to install');
    lines.push('COPY . .');
  }
  return lines;
}

function staticSite(input: GenerateInput, notes: string[], root: string): string[] {
  notes.push(`serves ${root || './'} as static files`);
  return [`FROM ${input.images.build}`, `ENV PATH=${DEFAULT_PATH} PORT=${input.port}`, `COPY ${root || '.'} /srv/www`];
}

/**
 * The Dockerfile for a detected stack: the dependency manifests are copied and installed
 * before the source, so a source-only change reuses the dependency layer; package-manager
 * caches are BuildKit cache mounts (kept between builds, never in a layer); the host's CA
 * bundle is a build secret. No `# syntax=` line: that would pull a frontend image from outside.
 */
export function generateDockerfile(input: GenerateInput): GeneratedBuild {
  const notes: string[] = [];
  const root = staticRoot(input.files);
  const phpRoot = has(input.files, 'public/index.php') && !has(input.files, 'index.php') ? 'public' : '.';
  const start = startCommand(input.stack, input.files, { goBinary: '/app/app', staticRoot: root.replace(/\/$/, ''), phpRoot });
  if ('error' in start) fail(start.error);
  let lines: string[];
  switch (input.stack) {
    case 'nodejs':
      lines = node(input, notes);
      break;
    case 'python':
      lines = python(input, notes);
      break;
    case 'go':
      lines = go(input, notes);
      break;
    case 'java-maven':
      lines = javaMaven(input, notes);
      break;
    case 'java-gradle':
      lines = javaGradle(input, notes);
      break;
    case 'php':
      lines = php(input, notes);
      break;
    case 'static':
      lines = staticSite(input, notes, root);
      break;
  }
  notes.push(`start: ${start.argv.join(' ')} (${start.why})`);
  lines.push(`EXPOSE ${input.port}`, cmd(start.argv), '');
  return { dockerfile: lines.join('\n'), dockerignore: DOCKERIGNORE, start: start.argv.join(' '), notes };
}
