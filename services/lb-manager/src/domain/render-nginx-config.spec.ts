import type { TcpRoute } from './gateway-state';
import { renderHttpConfig, renderStreamConfig } from './render-nginx-config';
import { settings } from './test-catalog';

const httpPaths = { prefix: '/var/lib/wharf/lb/http', socket: '/var/lib/wharf/lb/http/run/admin.sock' };
const streamPaths = { prefix: '/var/lib/wharf/lb/stream', socket: '/var/lib/wharf/lb/stream/run/control.sock' };
const labels = { componentId: 'a1.db', tenant: 'acme', app: 'shop', component: 'db' };
const routes: TcpRoute[] = [
  {
    listenPort: 15432,
    upstream: {
      key: 'a1.db:5432',
      labels,
      peers: [
        { address: '172.18.0.3', port: 5432 },
        { address: 'fd00::2', port: 5432 },
      ],
    },
  },
  { listenPort: 15000, upstream: { key: 'a1.echo:7', labels: { ...labels, componentId: 'a1.echo', component: 'echo' }, peers: [] } },
];

describe('renderHttpConfig', () => {
  it('renders the http instance (snapshot)', () => {
    expect(renderHttpConfig(settings, httpPaths).text).toMatchSnapshot();
  });

  it('is deterministic and its generation follows the text', () => {
    const a = renderHttpConfig(settings, httpPaths);
    expect(renderHttpConfig(settings, httpPaths)).toEqual(a);
    expect(a.text).toContain(`return 200 "${a.generation}"`);
    expect(renderHttpConfig({ ...settings, clientMaxBodyMib: 1 }, httpPaths).generation).not.toBe(a.generation);
  });

  it('refuses values that would break a config token', () => {
    expect(() => renderHttpConfig(settings, { ...httpPaths, prefix: '/tmp/x; evil' })).toThrow(/refusing to write path/);
    expect(() => renderHttpConfig({ ...settings, listenAddress: 'localhost' }, httpPaths)).toThrow(/refusing to write address/);
  });
});

describe('renderStreamConfig', () => {
  it('renders one server per TCP route, and a one-line answer without a ready replica (snapshot)', () => {
    expect(renderStreamConfig(settings, streamPaths, routes).text).toMatchSnapshot();
  });

  it('renders the same text whatever order the routes and peers come in', () => {
    const reversed = [...routes].reverse().map((r) => ({ ...r, upstream: { ...r.upstream, peers: [...r.upstream.peers].reverse() } }));
    expect(renderStreamConfig(settings, streamPaths, reversed)).toEqual(renderStreamConfig(settings, streamPaths, routes));
  });

  it('refuses an address or a label that is not one', () => {
    const bad = (over: Partial<TcpRoute['upstream']>) => [{ listenPort: 15000, upstream: { ...routes[0].upstream, ...over } }];
    expect(() => renderStreamConfig(settings, streamPaths, bad({ peers: [{ address: '1.2.3.4; }', port: 1 }] }))).toThrow(/refusing to write address/);
    expect(() => renderStreamConfig(settings, streamPaths, bad({ labels: { ...labels, tenant: 'a b' } }))).toThrow(/refusing to write label/);
  });
});
