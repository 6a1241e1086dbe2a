import { ConfigError, loadConfig } from '@wharf/config';
import { builderConfigShape } from './config';

const refusal = (env: Record<string, string>): string => {
  try {
    loadConfig(builderConfigShape, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.join('\n');
  }
  throw new Error('expected a ConfigError');
};

describe('builder configuration', () => {
  it('has working defaults for one machine', () => {
    const config = loadConfig(builderConfigShape, {});
    expect(config).toMatchObject({
      WHARF_MQ_ADDR: '127.0.0.1:32401',
      WHARF_EVENTLOG_ADDR: '127.0.0.1:32403',
      WHARF_BUILDER_REGISTRY: '127.0.0.1:32500',
      WHARF_HTTP_PORT: 32407,
      WHARF_BUILDER_CONCURRENCY: 2,
      WHARF_BUILDER_MEMORY_MIB: 2048,
      WHARF_BUILDER_CPUS: 1,
      WHARF_BUILDER_DOCKER_CLI: '/usr/bin/docker',
      WHARF_BUILDER_STACK_REPOSITORY: 'wharf-stack',
      WHARF_BUILDER_KEEP_IMAGES: false,
    });
    expect(config.WHARF_SECRET_KEY).toBeUndefined();
  });

  it('refuses bad values naming the variable and what it expects', () => {
    expect(refusal({ WHARF_BUILDER_CPUS: '-1' })).toMatch(/^WHARF_BUILDER_CPUS: .*got "-1".*CPUs of each RUN step/);
    expect(refusal({ WHARF_BUILDER_CONCURRENCY: '0' })).toMatch(/^WHARF_BUILDER_CONCURRENCY: .*builds this instance runs at once/);
    expect(refusal({ WHARF_BUILDER_REGISTRY: 'no port' })).toMatch(/^WHARF_BUILDER_REGISTRY: must be HOST:PORT/);
    expect(refusal({ WHARF_SECRET_KEY: 'short' })).toMatch(/^WHARF_SECRET_KEY: must be 32 bytes/);
    expect(refusal({ WHARF_BUILDER_STACK_REPOSITORY: 'Bad Name' })).toMatch(/^WHARF_BUILDER_STACK_REPOSITORY: must be a repository name/);
    expect(refusal({ WHARF_BUILDER_DEBIAN_MIRROR: 'ftp://m/debian' })).toMatch(/^WHARF_BUILDER_DEBIAN_MIRROR:/);
  });
});
