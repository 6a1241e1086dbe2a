import { createHash } from 'node:crypto';
import type { StackName } from './detect';

/**
 * The local stack images: one Debian base made with debootstrap, and one image per language
 * runtime on it with Debian's own packages (the only package source, besides npm's registry,
 * these data centers can reach). Each is tagged by what it is made of, so a recipe change
 * makes a new image and an unchanged one is built once and reused.
 */
export type StackImageName = 'base' | 'nodejs' | 'python' | 'go' | 'java-jdk-maven' | 'java-jdk-gradle' | 'java-jre' | 'php' | 'static';

export interface StackImageRecipe {
  name: StackImageName;
  /** Debian packages installed on the base (none for the base itself). */
  packages: readonly string[];
  /** Prints the runtime's version (its output, stdout and stderr, is stored in the image). */
  versionCommand: readonly string[];
  /** Shell commands run after the packages are installed (configuration of the runtime). */
  setup?: readonly string[];
}

/**
 * Maven resolves Maven Central from Debian's packaged repository (/usr/share/maven-repo):
 * Central is not reachable from these data centers, Debian's mirror is. A project builds when
 * its plugins and dependencies are packaged by Debian (their versions are Debian's).
 */
const MAVEN_SETTINGS =
  '<settings><mirrors><mirror><id>debian</id><name>Debian packaged Maven repository</name><mirrorOf>central</mirrorOf><url>file:///usr/share/maven-repo</url></mirror></mirrors></settings>';

export const STACK_IMAGE_RECIPES: Readonly<Record<StackImageName, StackImageRecipe>> = {
  base: { name: 'base', packages: [], versionCommand: ['cat', '/etc/debian_version'] },
  nodejs: { name: 'nodejs', packages: ['nodejs', 'npm', 'ca-certificates'], versionCommand: ['node', '--version'] },
  python: { name: 'python', packages: ['python3', 'python3-pip', 'python3-venv', 'ca-certificates'], versionCommand: ['python3', '--version'] },
  go: { name: 'go', packages: ['golang-go', 'ca-certificates', 'git'], versionCommand: ['go', 'version'] },
  'java-jdk-maven': {
    name: 'java-jdk-maven',
    packages: [
      'openjdk-17-jdk-headless',
      'maven',
      'ca-certificates',
      'libmaven-clean-plugin-java',
      'libmaven-resources-plugin-java',
      'libmaven-compiler-plugin-java',
      'libsurefire-java',
      'libmaven-jar-plugin-java',
      'libmaven-install-plugin-java',
      'libmaven-dependency-plugin-java',
    ],
    versionCommand: ['java', '-version'],
    setup: [`printf '%s\\n' '${MAVEN_SETTINGS}' > /etc/maven/settings.xml`],
  },
  'java-jdk-gradle': { name: 'java-jdk-gradle', packages: ['openjdk-17-jdk-headless', 'gradle', 'ca-certificates'], versionCommand: ['java', '-version'] },
  'java-jre': { name: 'java-jre', packages: ['openjdk-17-jre-headless', 'ca-certificates'], versionCommand: ['java', '-version'] },
  php: { name: 'php', packages: ['php-cli', 'composer', 'unzip', 'ca-certificates'], versionCommand: ['php', '-r', 'echo PHP_VERSION;'] },
  static: { name: 'static', packages: ['busybox'], versionCommand: ['busybox', '--help'] },
};

/** Which stack images a language builds on (build) and runs on (run; the same image unless the build is multi-stage). */
export const STACK_IMAGES_OF: Readonly<Record<StackName, { build: StackImageName; run: StackImageName }>> = {
  nodejs: { build: 'nodejs', run: 'nodejs' },
  python: { build: 'python', run: 'python' },
  go: { build: 'go', run: 'base' },
  'java-maven': { build: 'java-jdk-maven', run: 'java-jre' },
  'java-gradle': { build: 'java-jdk-gradle', run: 'java-jre' },
  php: { build: 'php', run: 'php' },
  static: { build: 'static', run: 'static' },
};

/** Where a stack image's version output is kept inside it. */
export const STACK_VERSION_FILE = '/etc/wharf-stack-version';

export const STACK_REPOSITORY = 'wharf-stack';

/** The base's tag: the suite and the debootstrap variant (not the mirror: any mirror of the suite makes the same base). */
export function baseImageTag(suite: string): string {
  return `${STACK_REPOSITORY}/base:${suite}-${hash(['debootstrap', 'minbase', suite, STACK_IMAGE_RECIPES.base.versionCommand.join(' ')])}`;
}

/** The Dockerfile of a language stack image on the base. */
export function stackDockerfile(recipe: StackImageRecipe, baseTag: string): string {
  if (recipe.name === 'base') throw new Error('the base image is made with debootstrap, not a Dockerfile');
  const version = recipe.versionCommand.map((a) => JSON.stringify(a)).join(' ');
  return [
    `FROM ${baseTag}`,
    'ENV DEBIAN_FRONTEND=noninteractive',
    `RUN apt-get update -o Acquire::Retries=3 \\`,
    `    && apt-get install -y -o Acquire::Retries=3 --no-install-recommends ${recipe.packages.join(' ')} \\`,
    '    && apt-get clean && rm -rf /var/lib/apt/lists/*',
    ...(recipe.setup ?? []).map((command) => `RUN ${command}`),
    // The version as the runtime itself reports it, for the log's runtime-version checks.
    `RUN ${version} > ${STACK_VERSION_FILE} 2>&1`,
    `LABEL org.wharf.stack=${JSON.stringify(recipe.name)}`,
    '',
  ].join('\n');
}

/**
 * A language stack image's tag: its recipe and the base it is built on, under `repository`
 * (the base, made with debootstrap, is always the shared wharf-stack/base).
 */
export function stackImageTag(recipe: StackImageRecipe, suite: string, repository = STACK_REPOSITORY): string {
  if (recipe.name === 'base') return baseImageTag(suite);
  const base = baseImageTag(suite);
  return `${repository}/${recipe.name}:${suite}-${hash([base, stackDockerfile(recipe, base)])}`;
}

/** The runtime version out of a stack image's version file, e.g. "v18.19.0" -> "18.19.0", 'openjdk version "17.0.13"' -> "17.0.13". */
export function parseStackVersion(name: StackImageName, output: string): string {
  const text = output.trim();
  const patterns: Partial<Record<StackImageName, RegExp>> = {
    nodejs: /v?(\d+\.\d+\.\d+)/,
    python: /Python (\d+\.\d+\.\d+)/,
    go: /go(\d+\.\d+(?:\.\d+)?)/,
    'java-jdk-maven': /version "([\d._]+)"/,
    'java-jdk-gradle': /version "([\d._]+)"/,
    'java-jre': /version "([\d._]+)"/,
    php: /^(\d+\.\d+\.\d+)/,
    static: /BusyBox v(\d+\.\d+\.\d+)/,
    base: /^(\S+)/,
  };
  return patterns[name]?.exec(text)?.[1] ?? text.split('\n')[0].slice(0, 40);
}

function hash(parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 12);
}
