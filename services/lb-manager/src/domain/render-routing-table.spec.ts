import type { GatewayState } from './gateway-state';
import { renderRoutingTable } from './render-routing-table';

const labels = (component: string) => ({ componentId: `a1.${component}`, tenant: 'acme', app: 'shop', component });
const state: Pick<GatewayState, 'rules' | 'upstreams' | 'certificates'> = {
  rules: [
    { host: 'x.example.com', pathPrefix: '/', upstream: 'a1.web:8080', httpsRedirect: false },
    { host: 'x.example.com', pathPrefix: '/api/v1', upstream: 'a1.api:8080', httpsRedirect: true },
    { host: 'x.example.com', pathPrefix: '/api', upstream: 'a1.api:8080', httpsRedirect: false },
    { host: '*.example.com', pathPrefix: '/', upstream: 'a1.web:8080', httpsRedirect: false },
  ],
  upstreams: [
    {
      key: 'a1.web:8080',
      labels: labels('web'),
      peers: [
        { address: '172.18.0.5', port: 8080 },
        { address: '172.18.0.4', port: 8080 },
      ],
    },
    { key: 'a1.api:8080', labels: labels('api'), peers: [] },
  ],
  certificates: [{ host: 'x.example.com', certificatePem: 'CERT', privateKeyPem: 'KEY' }],
};

describe('renderRoutingTable', () => {
  it('sorts hosts, longest prefix first, peers by address (snapshot)', () => {
    const table = renderRoutingTable(state, 443);
    expect(JSON.parse(table.json)).toMatchSnapshot();
    expect(JSON.parse(table.json).hosts['x.example.com'].map((r: { prefix: string }) => r.prefix)).toEqual(['/api/v1', '/api', '/']);
  });

  it('renders the same bytes for the same state in any order, and a new version for any change', () => {
    const a = renderRoutingTable(state, 443);
    const shuffled = { rules: [...state.rules].reverse(), upstreams: [...state.upstreams].reverse(), certificates: state.certificates };
    expect(renderRoutingTable(shuffled, 443)).toEqual(a);
    const moved = { ...state, upstreams: [{ ...state.upstreams[1], peers: [{ address: '172.18.0.9', port: 8080 }] }, state.upstreams[0]] };
    expect(renderRoutingTable(moved, 443).version).not.toBe(a.version);
    expect(JSON.parse(a.json).version).toBe(a.version);
  });
});
