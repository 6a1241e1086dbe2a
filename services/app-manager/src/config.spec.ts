import { ConfigError, loadConfig } from '@wharf/config';
import { appManagerConfigShape } from './config';

describe('app-manager configuration', () => {
  it('has working defaults', () => {
    const c = loadConfig(appManagerConfigShape, {});
    expect(c).toMatchObject({
      WHARF_DATA_CENTER: 'dc1',
      WHARF_APPMGR_MAX_SURGE: 1,
      WHARF_APPMGR_MAX_UNAVAILABLE: 0,
      WHARF_PULL_REGISTRIES: ['127.0.0.1:32500'],
    });
  });

  it.each([
    ['WHARF_DOCKER_PUBLISH_HOST', '0.0.0.0', /loopback/],
    ['WHARF_DATA_CENTER', 'Not A Label', /DNS label/],
    ['WHARF_DOCKER_NAME_PREFIX', '-x', /DNS label/],
    ['WHARF_PULL_REGISTRIES', 'a b', /host or host:port/],
    ['WHARF_APPMGR_MAX_SURGE', '-1', /WHARF_APPMGR_MAX_SURGE/],
  ])('refuses %s=%s, naming it', (key, value, why) => {
    let err: unknown;
    try {
      loadConfig(appManagerConfigShape, { [key]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(key);
    expect((err as ConfigError).message).toMatch(why);
  });
});
