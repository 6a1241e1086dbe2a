import { SecretBox } from '@wharf/secrets';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { desiredGateway, tlsKeyContext } from './desired-gateway';
import type { ReadyEndpoints } from './endpoints';
import type { RouteCatalog } from './route-catalog';
import { catalogOf, componentCreated, componentUpdated, settings, shop, tenantCreated, webPorts } from './test-catalog';

const box = new SecretBox(SecretBox.parseKey('ab'.repeat(32)));
const fixture = (name: string) => readFileSync(join(__dirname, '__fixtures__', name), 'utf8');
const NOW = Date.parse('2030-01-01T00:00:00Z');

function desired(catalog: RouteCatalog, endpoints: Record<string, string[]> = {}, nowMs = NOW) {
  const map = new Map<string, ReadyEndpoints>(Object.entries(endpoints).map(([componentId, addresses]) => [componentId, { componentId, addresses }]));
  return desiredGateway({ catalog, endpoints: map, settings, nowMs, openSecret: (sealed, context) => box.open(sealed, context) });
}

describe('desiredGateway', () => {
  it('routes default hosts and user routes to the ready replicas', () => {
    const state = desired(
      shop(
        componentCreated(10, 'a1.api', 'a1', 't1', {
          name: 'api',
          ports: [...webPorts, { port: 5432, protocol: 'tcp' }],
          routes: [{ host: 'api.example.com', pathPrefix: '/v1/', port: 8080, httpsRedirect: true }],
          tcpPorts: [{ listenPort: 15432, port: 5432 }],
        }),
      ),
      { 'a1.api': ['172.18.0.3', '172.18.0.2'] },
    );
    expect(state.rejections).toEqual([]);
    expect(state.rules).toEqual([
      { host: 'api-8080.shop.acme.localhost', pathPrefix: '/', upstream: 'a1.api:8080', httpsRedirect: false },
      { host: 'api.example.com', pathPrefix: '/v1', upstream: 'a1.api:8080', httpsRedirect: true },
      { host: 'api.shop.acme.localhost', pathPrefix: '/', upstream: 'a1.api:8080', httpsRedirect: false },
    ]);
    expect(state.upstreams.find((u) => u.key === 'a1.api:8080')!.peers).toEqual([
      { address: '172.18.0.3', port: 8080 },
      { address: '172.18.0.2', port: 8080 },
    ]);
    expect(state.tcp).toEqual([{ listenPort: 15432, upstream: expect.objectContaining({ key: 'a1.api:5432', peers: expect.any(Array) }) }]);
  });

  it('gives a claim to the oldest claimant, whatever order the components come in', () => {
    const older = componentCreated(10, 'a1.zzz', 'a1', 't1', {
      name: 'zzz',
      ports: webPorts,
      routes: [{ host: 'x.example.com', pathPrefix: '/', port: 8080 }],
    });
    const newer = componentCreated(11, 'a1.aaa', 'a1', 't1', { name: 'aaa', ports: webPorts });
    const claim = componentUpdated(12, 'a1.aaa', { name: 'aaa', ports: webPorts, routes: [{ host: 'x.example.com', pathPrefix: '/', port: 8080 }] });
    const state = desired(shop(older, newer, claim));
    expect(state.rules.find((r) => r.host === 'x.example.com')!.upstream).toBe('a1.zzz:8080');
    expect(state.rejections).toEqual([
      { componentId: 'a1.aaa', what: 'x.example.com/', reason: 'x.example.com/ is owned by component acme/shop/zzz (a1.zzz), which claimed it first' },
    ]);
    // The owner dropping the route hands it to the other claimant.
    const dropped = componentUpdated(13, 'a1.zzz', { name: 'zzz', ports: webPorts });
    expect(desired(shop(older, newer, claim, dropped)).rules.find((r) => r.host === 'x.example.com')!.upstream).toBe('a1.aaa:8080');
  });

  it('refuses a second component on a TCP port, and TCP ports of the gateway itself', () => {
    const tcp = (id: string, p: number, listenPort: number) =>
      componentCreated(p, `a1.${id}`, 'a1', 't1', { name: id, ports: [{ port: 7, protocol: 'tcp' }], tcpPorts: [{ listenPort, port: 7 }] });
    const state = desired(shop(tcp('one', 10, 15000), tcp('two', 11, 15000), tcp('three', 12, settings.httpPort)));
    expect(state.tcp.map((t) => [t.listenPort, t.upstream.key])).toEqual([[15000, 'a1.one:7']]);
    expect(state.rejections.map((r) => [r.componentId, r.what])).toEqual([
      ['a1.three', 'tcp_ports[0].listen_port'],
      ['a1.two', 'TCP port 15000'],
    ]);
  });

  it('skips components whose app or tenant it does not know', () => {
    const state = desired(catalogOf([tenantCreated(1, 't1', 'acme'), componentCreated(10, 'a9.api', 'a9', 't1', { name: 'api', ports: webPorts })]));
    expect(state.rules).toEqual([]);
  });

  describe('certificates', () => {
    const withTls = (host: string, cert: string, key: string, componentId = 'a1.api') =>
      shop(
        componentCreated(10, componentId, 'a1', 't1', {
          name: 'api',
          ports: webPorts,
          routes: [
            {
              host,
              pathPrefix: '/',
              port: 8080,
              tls: { certificatePem: fixture(cert), sealedPrivateKey: box.seal(fixture(key), tlsKeyContext(componentId, host)) },
            },
          ],
        }),
      );

    it('serves a route certificate that checks out', () => {
      const state = desired(withTls('shop.example.com', 'shop.crt', 'shop.key'));
      expect(state.rejections).toEqual([]);
      expect(state.certificates).toEqual([{ host: 'shop.example.com', certificatePem: fixture('shop.crt'), privateKeyPem: fixture('shop.key') }]);
    });

    it('leaves out a certificate for another host, an expired one and one whose key does not open, saying why', () => {
      const other = desired(withTls('shop.example.com', 'other.crt', 'other.key'));
      expect(other.certificates).toEqual([]);
      expect(other.rejections).toEqual([
        { componentId: 'a1.api', what: 'tls shop.example.com', reason: expect.stringMatching(/does not match host shop.example.com/) },
      ]);
      expect(desired(withTls('shop.example.com', 'shop.crt', 'shop.key'), {}, Date.parse('2200-01-01')).rejections[0].reason).toMatch(/expired/);
      const moved = withTls('shop.example.com', 'shop.crt', 'shop.key');
      moved.components.get('a1.api')!.spec.routes[0].tls!.sealedPrivateKey[30] ^= 1;
      expect(desired(moved).rejections[0].reason).toMatch(/cannot be opened/);
      // The route itself is still served (with the default certificate).
      expect(desired(moved).rules.some((r) => r.host === 'shop.example.com')).toBe(true);
    });
  });
});
