import { baseImageTag, parseStackVersion, STACK_IMAGE_RECIPES, STACK_IMAGES_OF, stackDockerfile, stackImageTag } from './stacks';

describe('stack images', () => {
  it('tags each image by its recipe, stable across calls and different between stacks', () => {
    const node = stackImageTag(STACK_IMAGE_RECIPES.nodejs, 'bookworm');
    expect(node).toMatch(/^wharf-stack\/nodejs:bookworm-[0-9a-f]{12}$/);
    expect(stackImageTag(STACK_IMAGE_RECIPES.nodejs, 'bookworm')).toBe(node);
    expect(stackImageTag(STACK_IMAGE_RECIPES.python, 'bookworm')).not.toBe(node);
    expect(stackImageTag(STACK_IMAGE_RECIPES.nodejs, 'trixie')).not.toBe(node);
    expect(stackImageTag(STACK_IMAGE_RECIPES.base, 'bookworm')).toBe(baseImageTag('bookworm'));
  });

  it('installs Debian packages on the base and records the runtime version', () => {
    const text = stackDockerfile(STACK_IMAGE_RECIPES.nodejs, 'wharf-stack/base:bookworm-x');
    expect(text).toMatch(/^FROM wharf-stack\/base:bookworm-x\n/);
    expect(text).toContain('apt-get install -y -o Acquire::Retries=3 --no-install-recommends nodejs npm ca-certificates');
    expect(text).toContain('RUN "node" "--version" > /etc/wharf-stack-version 2>&1');
    expect(text).not.toMatch(/^# syntax/m);
  });

  it('names a build and a run image for every language', () => {
    for (const { build, run } of Object.values(STACK_IMAGES_OF)) {
      expect(STACK_IMAGE_RECIPES[build]).toBeDefined();
      expect(STACK_IMAGE_RECIPES[run]).toBeDefined();
    }
  });

  it.each([
    ['nodejs', 'v18.19.0\n', '18.19.0'],
    ['python', 'Python 3.11.2', '3.11.2'],
    ['go', 'go version go1.19.8 linux/amd64', '1.19.8'],
    ['java-jre', 'openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', '17.0.15'],
    ['php', '8.2.28', '8.2.28'],
  ] as const)('reads the %s version', (name, output, version) => {
    expect(parseStackVersion(name, output)).toBe(version);
  });
});
