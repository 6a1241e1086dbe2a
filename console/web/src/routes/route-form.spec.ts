import { certificateFieldOf, describeCertificate, editRouteForm, newRouteForm, routeBody, routeFieldOf, routesPath, type RouteView } from './route-form';

describe('route form', () => {
  const ports = [
    { port: 5432, protocol: 'tcp' },
    { port: 8080, protocol: 'http' },
  ];
  const tlsRoute: RouteView = {
    id: 'shop.example.com/',
    kind: 'http',
    host: 'shop.example.com',
    path_prefix: '/',
    port: 8080,
    https_redirect: false,
    tls: {
      certificate_pem: 'CERT',
      subject: 'CN=shop.example.com',
      names: ['shop.example.com'],
      issuer: null,
      not_after_ms: Date.parse('2126-11-07T08:34:41Z'),
    },
  };

  it("starts a new route at the component's first port of its kind", () => {
    expect(newRouteForm(ports)).toMatchObject({ kind: 'http', port: '8080', path_prefix: '/', tls: false });
    expect(newRouteForm(ports, 'tcp')).toMatchObject({ kind: 'tcp', port: '5432' });
  });

  it('edits a TLS route keeping its stored key unless told otherwise; the key field starts empty', () => {
    expect(editRouteForm(tlsRoute)).toMatchObject({ tls: true, certificate_pem: 'CERT', private_key_pem: '', keep_key: true });
    expect(routeBody(editRouteForm(tlsRoute))).toEqual({
      body: { kind: 'http', host: 'shop.example.com', path_prefix: '/', port: 8080, https_redirect: false, tls: { certificate_pem: 'CERT', keep_key: true } },
    });
    const fresh = { ...editRouteForm(tlsRoute), keep_key: false, private_key_pem: 'KEY' };
    expect(routeBody(fresh)).toMatchObject({ body: { tls: { certificate_pem: 'CERT', private_key_pem: 'KEY' } } });
    expect(routeBody({ ...editRouteForm(tlsRoute), tls: false })).toMatchObject({ body: { tls: null } });
  });

  it('refuses ports that are no numbers before sending anything', () => {
    expect(routeBody({ ...newRouteForm(ports), port: 'eighty' })).toEqual({ errors: { port: 'must be a port number 1-65535' } });
    expect(routeBody({ ...newRouteForm(ports, 'tcp'), listen_port: '70000' })).toEqual({ errors: { listen_port: 'must be a port number 1-65535' } });
    expect(routeBody({ ...newRouteForm(ports, 'tcp'), listen_port: '15432' })).toEqual({ body: { kind: 'tcp', listen_port: 15432, port: 5432 } });
  });

  it("puts the console's errors next to their field", () => {
    expect(routeFieldOf('host')).toBe('host');
    expect(routeFieldOf('tls.private_key_pem')).toBe('tls.private_key_pem');
    expect(routeFieldOf('tls')).toBe('tls.certificate_pem');
    expect(routeFieldOf('route')).toBe('form');
    expect(routeFieldOf(undefined)).toBe('form');
    expect(certificateFieldOf('certificate_pem')).toBe('certificate_pem');
    expect(certificateFieldOf('route')).toBe('form');
  });

  it('says a certificate by its names and expiry, and addresses a route by its encoded id', () => {
    expect(describeCertificate(tlsRoute.kind === 'http' ? tlsRoute.tls : null)).toBe('shop.example.com · until 2126-11-07');
    expect(routesPath('east', 'acme', 'acme.shop.web', 'shop.example.com/v1')).toBe(
      '/api/v1/dcs/east/tenants/acme/components/acme.shop.web/routes/shop.example.com%2Fv1',
    );
  });
});
