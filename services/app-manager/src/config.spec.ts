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
      WHARF_RUNTIME: 'docker',
    });
  });

  it('accepts the kubernetes runtime with a kubeconfig and the gateway CIDRs', () => {
    const c = loadConfig(appManagerConfigShape, {
      WHARF_RUNTIME: 'kubernetes',
      WHARF_KUBECONFIG: '/tmp/kc',
      WHARF_KUBERNETES_GATEWAY_CIDRS: '10.250.0.0/24, 10.244.0.0/16',
    });
    expect(c).toMatchObject({
      WHARF_RUNTIME: 'kubernetes',
      WHARF_KUBECONFIG: '/tmp/kc',
      WHARF_KUBERNETES_GATEWAY_CIDRS: ['10.250.0.0/24', '10.244.0.0/16'],
      WHARF_KUBERNETES_NAME_PREFIX: 'wharf',
    });
  });

  it.each([
    ['WHARF_DOCKER_PUBLISH_HOST', '0.0.0.0', /loopback/],
    ['WHARF_DATA_CENTER', 'Not A Label', /DNS label/],
    ['WHARF_DOCKER_NAME_PREFIX', '-x', /DNS label/],
    ['WHARF_PULL_REGISTRIES', 'a b', /host or host:port/],
    ['WHARF_APPMGR_MAX_SURGE', '-1', /WHARF_APPMGR_MAX_SURGE/],
    ['WHARF_RUNTIME', 'nomad', /docker|kubernetes/],
    ['WHARF_KUBERNETES_GATEWAY_CIDRS', '10.0.0.1', /CIDR/],
    ['WHARF_KUBERNETES_NAME_PREFIX', '1x', /DNS label/],
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
