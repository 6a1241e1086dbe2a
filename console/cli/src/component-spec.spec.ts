import { parseRouteTarget, routeSpec, specOf } from './component-spec';

const view = {
  source: { image: 'nginx:1.27' },
  ports: [{ port: 80, protocol: 'http', public: true }],
  env: [{ name: 'A', value: '1', secret: false }],
  cpu_millis: 100,
  memory_mib: 64,
  replicas: 2,
  probe: null,
  volumes: [],
  depends_on: [],
  tcp_ports: [],
  routes: [{ host: 'api.example.com', path_prefix: '/v1', port: 80, https_redirect: false, tls: null }],
  version: 7,
  current_version: 'v-1',
};

describe('component spec from its view', () => {
  it('sends routes back without the view-only tls: null, and nothing the spec does not take', () => {
    const spec = specOf(view, { env: [] });
    expect(spec).toEqual({
      source: view.source,
      ports: view.ports,
      env: [],
      cpu_millis: 100,
      memory_mib: 64,
      replicas: 2,
      volumes: [],
      depends_on: [],
      tcp_ports: [],
      routes: [{ host: 'api.example.com', path_prefix: '/v1', port: 80, https_redirect: false }],
    });
  });

  it("refuses to drop a TLS route's key silently: the key must be given again, naming the route", () => {
    const tls = { host: 'shop.example.com', path_prefix: '/', port: 80, https_redirect: true, tls: { certificate_pem: 'CERT' } };
    expect(() => routeSpec(tls)).toThrow(/route shop\.example\.com\/ has a TLS certificate .* never returns its private key/);
    expect(routeSpec(tls, { 'shop.example.com': 'KEY' })).toEqual({ ...tls, tls: { certificate_pem: 'CERT', private_key_pem: 'KEY' } });
  });

  it('reads HOST or HOST/PATH and names what it cannot', () => {
    expect(parseRouteTarget('API.example.com')).toEqual({ host: 'api.example.com', path_prefix: '/' });
    expect(parseRouteTarget('api.example.com/v1/items')).toEqual({ host: 'api.example.com', path_prefix: '/v1/items' });
    expect(parseRouteTarget('*.example.com')).toEqual({ host: '*.example.com', path_prefix: '/' });
    for (const bad of ['', '/v1', 'bad host', 'a..b', '-a.com']) expect(() => parseRouteTarget(bad)).toThrow(/expected HOST or HOST\/PATH/);
  });
});
