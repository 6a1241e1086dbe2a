import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertNoRouteConflicts,
  checkCertificate,
  claimKey,
  claimsOf,
  defaultHosts,
  hostProblem,
  normalizePathPrefix,
  pathMatches,
  pathPrefixProblem,
  routeConflicts,
  type RoutedSpec,
} from './index';

const fixture = (name: string) => readFileSync(join(__dirname, '__fixtures__', name), 'utf8');
const names = { tenant: 'acme', app: 'shop', component: 'api' };
const spec = (over: Partial<RoutedSpec> = {}): RoutedSpec => ({
  ports: [
    { port: 8080, protocol: 'http', public: true },
    { port: 9000, protocol: 'http', public: true },
    { port: 5432, protocol: 'tcp', public: false },
  ],
  routes: [],
  tcpPorts: [],
  ...over,
});
const NOW = Date.parse('2030-01-01T00:00:00Z');

describe('names', () => {
  it.each([
    ['api.example.com', undefined],
    ['*.example.com', undefined],
    ['localhost', undefined],
    ['API.example.com', /lowercase/],
    ['a b.com', /lowercase/],
    ['x.com;proxy_pass', /lowercase/],
    ['a.*.com', /lowercase/],
    ['', /empty/],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`, /253/],
  ])('host %j', (host, problem) => {
    const why = hostProblem(host);
    if (problem) expect(why).toMatch(problem);
    else expect(why).toBeUndefined();
  });

  it.each([
    ['/', undefined],
    ['/api/v1', undefined],
    ['/a-b_c.d~e', undefined],
    ['api', /start with/],
    ['/a b', /only/],
    ['/a"b', /only/],
    ['/a{b}', /only/],
    ['/%2e', /only/],
    ['/a//b', /\/\//],
    ['/a/../b', /segments/],
    ['/.', /segments/],
  ])('path prefix %j', (prefix, problem) => {
    const why = pathPrefixProblem(prefix);
    if (problem) expect(why).toMatch(problem);
    else expect(why).toBeUndefined();
  });

  it('matches prefixes at "/" boundaries', () => {
    expect(normalizePathPrefix('/api/')).toBe('/api');
    expect(normalizePathPrefix('/')).toBe('/');
    expect(pathMatches('/api', '/api')).toBe(true);
    expect(pathMatches('/api', '/api/x')).toBe(true);
    expect(pathMatches('/api', '/apix')).toBe(false);
    expect(pathMatches('/', '/anything')).toBe(true);
  });

  it('gives every public http port a default host, the first one the short name', () => {
    expect(defaultHosts(names, spec().ports, 'localhost')).toEqual([
      { host: 'api.shop.acme.localhost', port: 8080 },
      { host: 'api-8080.shop.acme.localhost', port: 8080 },
      { host: 'api-9000.shop.acme.localhost', port: 9000 },
    ]);
    expect(defaultHosts({ ...names, app: 'Bad_Name' }, spec().ports, 'localhost')).toEqual([]);
    expect(defaultHosts(names, [{ port: 80, protocol: 'http', public: false }], 'localhost')).toEqual([]);
  });
});

describe('claimsOf', () => {
  const options = { domain: 'localhost', reservedPorts: [80, 443] };

  it('claims default hosts, routes and TCP ports', () => {
    const { claims, problems } = claimsOf(
      names,
      spec({ routes: [{ host: 'shop.example.com', pathPrefix: '/v1/', port: 9000, httpsRedirect: true }], tcpPorts: [{ listenPort: 15432, port: 5432 }] }),
      options,
    );
    expect(problems).toEqual([]);
    expect(claims.map(claimKey)).toEqual([
      'http api.shop.acme.localhost/',
      'http api-8080.shop.acme.localhost/',
      'http api-9000.shop.acme.localhost/',
      'http shop.example.com/v1',
      'tcp 15432',
    ]);
    expect(claims[3]).toMatchObject({ origin: 'route', httpsRedirect: true, port: 9000 });
  });

  it('names the field of every problem and keeps the good claims', () => {
    const { claims, problems } = claimsOf(
      names,
      spec({
        routes: [
          { host: 'bad host', pathPrefix: '/', port: 8080 },
          { host: 'ok.example.com', pathPrefix: '/a b', port: 8080 },
          { host: 'ok.example.com', pathPrefix: '/', port: 5432 },
          { host: 'web.shop.acme.localhost', pathPrefix: '/', port: 8080 },
          { host: 'ok.example.com', pathPrefix: '/x', port: 8080 },
          { host: 'ok.example.com', pathPrefix: '/x/', port: 8080 },
        ],
        tcpPorts: [
          { listenPort: 443, port: 5432 },
          { listenPort: 15000, port: 8080 },
          { listenPort: 70000, port: 5432 },
        ],
      }),
      options,
    );
    expect(problems.map((p) => p.field)).toEqual([
      'routes[0].host',
      'routes[1].path_prefix',
      'routes[2].port',
      'routes[3].host',
      'routes[5]',
      'tcp_ports[0].listen_port',
      'tcp_ports[1].port',
      'tcp_ports[2].listen_port',
    ]);
    expect(problems[3].reason).toMatch(/data center's domain localhost/);
    expect(problems[5].reason).toMatch(/gateway's own/);
    expect(claims.map(claimKey)).toContain('http ok.example.com/x');
  });
});

describe('ownership', () => {
  const api = {
    owner: { componentId: 'app1.api', name: 'acme/shop/api' },
    claims: claimsOf(names, spec({ routes: [{ host: 'x.example.com', pathPrefix: '/', port: 8080 }], tcpPorts: [{ listenPort: 15432, port: 5432 }] }), {
      domain: 'localhost',
    }).claims,
  };
  const web = (routes: RoutedSpec['routes'], tcpPorts: RoutedSpec['tcpPorts'] = []) => ({
    owner: { componentId: 'app1.web', name: 'acme/shop/web' },
    claims: claimsOf({ ...names, component: 'web' }, spec({ routes, tcpPorts }), { domain: 'localhost' }).claims,
  });

  it('finds the same host and path, or the same TCP port, held by another component', () => {
    expect(routeConflicts(web([{ host: 'x.example.com', pathPrefix: '/other', port: 8080 }]), [api])).toEqual([]);
    const [http] = routeConflicts(web([{ host: 'x.example.com', pathPrefix: '/', port: 8080 }]), [api]);
    expect(http.message).toBe('x.example.com/ is already routed to component acme/shop/api (app1.api)');
    expect(http.field).toBe('routes');
    const [tcp] = routeConflicts(web([], [{ listenPort: 15432, port: 5432 }]), [api]);
    expect(tcp.message).toMatch(/TCP port 15432 is already routed to component acme\/shop\/api/);
  });

  it('is no conflict with the component itself (an update keeps its routes)', () => {
    expect(routeConflicts(api, [api])).toEqual([]);
  });

  it('answers a conflict as a 409 naming the owner', () => {
    expect(() => assertNoRouteConflicts(web([{ host: 'x.example.com', pathPrefix: '/', port: 8080 }]), [api])).toThrow(
      expect.objectContaining({ code: 'conflict', reason: 'route_owned', field: 'routes', message: expect.stringMatching(/acme\/shop\/api/) }),
    );
  });
});

describe('checkCertificate', () => {
  const check = (cert: string, key: string, host: string, nowMs = NOW) =>
    checkCertificate({ certificatePem: fixture(cert), privateKeyPem: fixture(key), host, nowMs });

  it('accepts a certificate for its host, with or without its chain', () => {
    expect(check('shop.crt', 'shop.key', 'shop.example.com')).toMatchObject({ ok: true, subject: 'CN=shop.example.com' });
    expect(check('shop-chain.crt', 'shop.key', 'shop.example.com').ok).toBe(true);
    expect(check('wild.crt', 'wild.key', 'anything.example.com').ok).toBe(true);
    expect(check('wild.crt', 'wild.key', '*.example.com').ok).toBe(true);
  });

  it('refuses, saying why', () => {
    const reason = (r: ReturnType<typeof check>) => (r.ok ? 'ok' : r.reason);
    expect(reason(check('shop.crt', 'shop.key', 'other.example.com'))).toMatch(/does not match host other.example.com \(it names DNS:shop.example.com\)/);
    expect(reason(check('shop.crt', 'other.key', 'shop.example.com'))).toMatch(/private key does not belong/);
    expect(reason(check('shop-chain-reversed.crt', 'shop.key', 'shop.example.com'))).toMatch(/private key does not belong|did not issue/);
    expect(reason(check('shop.crt', 'shop.key', 'shop.example.com', Date.parse('2200-01-01T00:00:00Z')))).toMatch(/expired on 2126-/);
    expect(reason(check('shop.crt', 'shop.key', 'shop.example.com', Date.parse('2000-01-01T00:00:00Z')))).toMatch(/not valid before/);
    expect(reason(check('other.crt', 'other.key', '*.example.com'))).toMatch(/does not match/);
    expect(reason(checkCertificate({ certificatePem: 'garbage', privateKeyPem: fixture('shop.key'), host: 'shop.example.com', nowMs: NOW }))).toMatch(
      /not PEM/,
    );
    expect(reason(checkCertificate({ certificatePem: fixture('shop.crt'), privateKeyPem: 'nope', host: 'shop.example.com', nowMs: NOW }))).toMatch(
      /private key does not parse/,
    );
  });

  it("says which input a refusal is about: the key (unreadable or not the certificate's) or the certificate", () => {
    const part = (r: ReturnType<typeof check>) => (r.ok ? 'ok' : r.part);
    expect(part(check('shop.crt', 'other.key', 'shop.example.com'))).toBe('private_key');
    expect(part(checkCertificate({ certificatePem: fixture('shop.crt'), privateKeyPem: 'nope', host: 'shop.example.com', nowMs: NOW }))).toBe('private_key');
    expect(part(check('shop.crt', 'shop.key', 'other.example.com'))).toBe('certificate');
    expect(part(checkCertificate({ certificatePem: 'garbage', privateKeyPem: fixture('shop.key'), host: 'shop.example.com', nowMs: NOW }))).toBe('certificate');
    expect(part(check('shop.crt', 'shop.key', 'shop.example.com', Date.parse('2200-01-01T00:00:00Z')))).toBe('certificate');
  });
});
