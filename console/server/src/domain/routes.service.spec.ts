import { WharfError } from '@wharf/errors';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataCenterError } from './federation.service';
import type { DcResponse } from './ports';
import { ComponentRoutesService, type DcCaller } from './routes.service';
import { certificateInputSchema, routeInputSchema } from './schemas';

const fixture = (name: string) => readFileSync(join(__dirname, '__fixtures__', name), 'utf8');
const ref = { dc: 'east', tenant: 'acme', component: 'acme.shop.web' };
const PATH = '/api/v1/tenants/acme/components/acme.shop.web';

interface Call {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A data center's component API in memory: GET answers the component with its ETag; PATCH answers what `onPatch` says (default: applies it). */
class FakeDc implements DcCaller {
  calls: Call[] = [];
  component = {
    id: 'acme.shop.web',
    version: 3,
    ports: [
      { port: 8080, protocol: 'http', public: true },
      { port: 5432, protocol: 'tcp', public: false },
    ],
    routes: [
      { host: 'shop.example.com', path_prefix: '/', port: 8080, https_redirect: false, tls: { certificate_pem: fixture('shop.crt') } },
      { host: 'www.example.com', path_prefix: '/a', port: 8080, https_redirect: false, tls: null as { certificate_pem: string } | null },
    ],
    tcp_ports: [{ listen_port: 15432, port: 5432 }],
  };
  onPatch?: (body: { routes?: unknown[]; tcp_ports?: unknown[] }) => DcResponse | undefined;

  async passthrough(_actor: string, dc: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<DcResponse> {
    expect(dc).toBe('east');
    this.calls.push({ method, path, body, headers });
    if (method === 'GET') return { status: 200, body: structuredClone(this.component), etag: `"${this.component.version}"` };
    const answer = this.onPatch?.(body as { routes?: unknown[] });
    if (answer) return answer;
    // The data center's view of what was sent: a route without tls has none, a certificate without its key.
    const patch = body as {
      routes?: (Omit<FakeDc['component']['routes'][number], 'tls'> & { tls?: { certificate_pem: string } })[];
      tcp_ports?: FakeDc['component']['tcp_ports'];
    };
    this.component = {
      ...this.component,
      version: this.component.version + 1,
      ...(patch.routes ? { routes: patch.routes.map((r) => ({ ...r, tls: r.tls ? { certificate_pem: r.tls.certificate_pem } : null })) } : {}),
      ...(patch.tcp_ports ? { tcp_ports: patch.tcp_ports } : {}),
    };
    return { status: 200, body: structuredClone(this.component), etag: `"${this.component.version}"` };
  }

  patches(): Call[] {
    return this.calls.filter((c) => c.method === 'PATCH');
  }
}

const refused = (status: number, code: string, field: string, message: string): DcResponse => ({ status, body: { error: { code, message, field } } });

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    if (err instanceof DataCenterError) return { status: err.status, ...err.error };
    if (err instanceof WharfError) return { code: err.code, field: err.field, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('ComponentRoutesService', () => {
  const http = (extra: object = {}) => routeInputSchema.parse({ kind: 'http', host: 'api.example.com', port: 8080, ...extra });
  const tls = (extra: object = {}) => certificateInputSchema.parse({ certificate_pem: fixture('shop.crt'), private_key_pem: fixture('shop.key'), ...extra });

  it('lists HTTP routes with their certificate (subject, names, expiry) and TCP ports, each with its id; no key anywhere', async () => {
    const dc = new FakeDc();
    const view = await new ComponentRoutesService(dc).list('alice', ref);
    expect(view).toMatchObject({ dc: 'east', tenant: 'acme', component: 'acme.shop.web', version: 3 });
    expect(view.routes.map((r) => r.id)).toEqual(['shop.example.com/', 'www.example.com/a', 'tcp:15432']);
    expect(view.routes[0]).toMatchObject({
      kind: 'http',
      tls: { subject: 'CN=shop.example.com', names: ['shop.example.com'], not_after_ms: Date.parse('2126-11-07T08:34:41Z') },
    });
    expect(view.routes[2]).toEqual({ id: 'tcp:15432', kind: 'tcp', listen_port: 15432, port: 5432 });
    expect(JSON.stringify(view)).not.toContain('PRIVATE KEY');
  });

  it('adds a route with one PATCH guarded by the ETag read, the other routes sent back without keys (the data center keeps them)', async () => {
    const dc = new FakeDc();
    const view = await new ComponentRoutesService(dc).add('alice', ref, http({ path_prefix: '/v1', tls: tls() }));
    const [patch] = dc.patches();
    expect(patch).toMatchObject({ path: PATH, headers: { 'if-match': '"3"' } });
    expect(patch.body).toEqual({
      routes: [
        { host: 'shop.example.com', path_prefix: '/', port: 8080, https_redirect: false, tls: { certificate_pem: fixture('shop.crt') } },
        { host: 'www.example.com', path_prefix: '/a', port: 8080, https_redirect: false },
        {
          host: 'api.example.com',
          path_prefix: '/v1',
          port: 8080,
          https_redirect: false,
          tls: { certificate_pem: fixture('shop.crt'), private_key_pem: fixture('shop.key') },
        },
      ],
    });
    expect(view.routes.map((r) => r.id)).toContain('api.example.com/v1');
    expect(JSON.stringify(view)).not.toContain('PRIVATE KEY');
  });

  it('refuses a second route for the same host and path here (409 on host) and writes nothing', async () => {
    const dc = new FakeDc();
    expect(await failure(new ComponentRoutesService(dc).add('alice', ref, http({ host: 'www.example.com', path_prefix: '/a/' })))).toMatchObject({
      code: 'conflict',
      field: 'host',
    });
    expect(
      await failure(new ComponentRoutesService(dc).add('alice', ref, routeInputSchema.parse({ kind: 'tcp', listen_port: 15432, port: 5432 }))),
    ).toMatchObject({
      field: 'listen_port',
    });
    expect(dc.patches()).toEqual([]);
  });

  it("puts the data center's refusal of the caller's route on the form's field, and one about another route in the message", async () => {
    const dc = new FakeDc();
    const svc = new ComponentRoutesService(dc);
    dc.onPatch = () => refused(409, 'route_owned', 'routes[2]', 'api.example.com/ is already routed to component acme/blog/api (acme.blog.api)');
    expect(await failure(svc.add('alice', ref, http()))).toEqual({
      status: 409,
      code: 'route_owned',
      field: 'host',
      message: 'api.example.com/ is already routed to component acme/blog/api (acme.blog.api)',
    });
    dc.onPatch = () =>
      refused(400, 'invalid', 'routes[2].tls.private_key_pem', 'routes[2].tls.private_key_pem: the private key does not belong to the certificate');
    expect(await failure(svc.add('alice', ref, http({ tls: tls() })))).toMatchObject({
      field: 'tls.private_key_pem',
      message: 'the private key does not belong to the certificate',
    });
    dc.onPatch = () => refused(400, 'invalid', 'routes[2].host', "routes[2].host: api.dc1.example.com is in the data center's domain dc1.example.com");
    expect(await failure(svc.add('alice', ref, http()))).toMatchObject({ field: 'host' });
    dc.onPatch = () =>
      refused(400, 'invalid', 'routes[0].tls.certificate_pem', 'routes[0].tls.certificate_pem: the certificate expired on 2020-01-01T00:00:00.000Z');
    const other = await failure(svc.add('alice', ref, http()));
    expect(other).toEqual({ status: 400, code: 'invalid', message: 'route shop.example.com/: the certificate expired on 2020-01-01T00:00:00.000Z' });
    dc.onPatch = () => refused(400, 'invalid', 'tcp_ports[1].listen_port', "tcp_ports[1].listen_port: port 80 is the gateway's own");
    expect(await failure(svc.add('alice', ref, routeInputSchema.parse({ kind: 'tcp', listen_port: 80, port: 5432 })))).toMatchObject({ field: 'listen_port' });
  });

  it('edits a route keeping its stored key: the certificate goes without a key, with key_from_host when the host changed', async () => {
    const dc = new FakeDc();
    const svc = new ComponentRoutesService(dc);
    const keep = tls({ certificate_pem: fixture('shop-chain.crt'), private_key_pem: undefined, keep_key: true });
    await svc.replace('alice', ref, 'shop.example.com/', http({ host: 'shop.example.com', https_redirect: true, tls: keep }));
    expect((dc.patches()[0].body as { routes: unknown[] }).routes[0]).toEqual({
      host: 'shop.example.com',
      path_prefix: '/',
      port: 8080,
      https_redirect: true,
      tls: { certificate_pem: fixture('shop-chain.crt') },
    });
    await svc.replace('alice', ref, 'shop.example.com/', http({ host: 'shop2.example.com', tls: keep }));
    expect((dc.patches()[1].body as { routes: unknown[] }).routes[0]).toMatchObject({
      host: 'shop2.example.com',
      tls: { certificate_pem: fixture('shop-chain.crt'), key_from_host: 'shop.example.com' },
    });
    // A kept key the data center finds wrong for the new certificate is the certificate field's.
    dc.onPatch = () =>
      refused(
        400,
        'invalid',
        'routes[0].tls.certificate_pem',
        'routes[0].tls.certificate_pem: the private key stored for shop2.example.com does not belong to this certificate',
      );
    expect(await failure(svc.replace('alice', ref, 'shop2.example.com/', http({ host: 'shop2.example.com', tls: keep })))).toMatchObject({
      field: 'tls.certificate_pem',
    });
    // No certificate yet, so nothing to keep.
    expect(await failure(svc.replace('alice', ref, 'www.example.com/a', http({ host: 'www.example.com', path_prefix: '/a', tls: keep })))).toMatchObject({
      field: 'tls.private_key_pem',
    });
    expect(await failure(svc.replace('alice', ref, 'nope.example.com/', http()))).toMatchObject({ code: 'not_found', field: 'route' });
    expect(await failure(svc.replace('alice', ref, 'tcp:15432', http()))).toMatchObject({ field: 'kind' });
  });

  it('reads and writes again when the component changed in between (409 version_mismatch), at most three times', async () => {
    const dc = new FakeDc();
    let lost = 2;
    dc.onPatch = () =>
      lost-- > 0 ? refused(409, 'version_mismatch', '', 'component acme.shop.web is at version 4, If-Match said 3; reload and retry') : undefined;
    await new ComponentRoutesService(dc).remove('alice', ref, 'www.example.com/a');
    expect(dc.patches()).toHaveLength(3);
    expect(dc.component.routes.map((r) => r.host)).toEqual(['shop.example.com']);
    dc.onPatch = () => refused(409, 'version_mismatch', '', 'changed');
    expect(await failure(new ComponentRoutesService(dc).remove('alice', ref, 'tcp:15432'))).toMatchObject({ status: 409, code: 'version_mismatch' });
  });

  it('uploads, renews (keeping the key) and takes off a certificate; TCP ports have none', async () => {
    const dc = new FakeDc();
    const svc = new ComponentRoutesService(dc);
    await svc.setCertificate('alice', ref, 'www.example.com/a', tls());
    expect((dc.patches()[0].body as { routes: unknown[] }).routes[1]).toMatchObject({ tls: { private_key_pem: fixture('shop.key') } });
    await svc.setCertificate('alice', ref, 'www.example.com/a', tls({ private_key_pem: undefined, keep_key: true }));
    expect((dc.patches()[1].body as { routes: { tls: object }[] }).routes[1].tls).toEqual({ certificate_pem: fixture('shop.crt') });
    dc.onPatch = () =>
      refused(400, 'invalid', 'routes[1].tls.certificate_pem', 'routes[1].tls.certificate_pem: the certificate does not match host www.example.com');
    expect(await failure(svc.setCertificate('alice', ref, 'www.example.com/a', tls()))).toMatchObject({ field: 'certificate_pem' });
    dc.onPatch = undefined;
    await svc.setCertificate('alice', ref, 'www.example.com/a', null);
    expect((dc.patches()[3].body as { routes: object[] }).routes[1]).toEqual({ host: 'www.example.com', path_prefix: '/a', port: 8080, https_redirect: false });
    expect(await failure(svc.setCertificate('alice', ref, 'tcp:15432', tls()))).toMatchObject({ field: 'route' });
  });

  it('validates route and certificate input before any call: the key is required unless kept, never in the certificate field', () => {
    const issue = (schema: { safeParse(v: unknown): { error?: { issues: { path: PropertyKey[]; message: string }[] } } }, v: unknown) =>
      schema.safeParse(v).error?.issues[0];
    expect(issue(certificateInputSchema, { certificate_pem: fixture('shop.crt') })).toMatchObject({
      path: ['private_key_pem'],
      message: 'is required (or keep the stored key)',
    });
    expect(issue(certificateInputSchema, { certificate_pem: fixture('shop.crt'), private_key_pem: 'x', keep_key: true })).toMatchObject({
      path: ['private_key_pem'],
    });
    expect(issue(certificateInputSchema, { certificate_pem: fixture('shop.crt'), private_key_pem: 'not a key' })).toMatchObject({ path: ['private_key_pem'] });
    expect(issue(certificateInputSchema, { certificate_pem: 'hello', private_key_pem: fixture('shop.key') })).toMatchObject({ path: ['certificate_pem'] });
    expect(issue(certificateInputSchema, { certificate_pem: fixture('shop.crt') + fixture('shop.key'), keep_key: true })).toMatchObject({
      path: ['certificate_pem'],
      message: expect.stringContaining('certificates only'),
    });
    expect(issue(routeInputSchema, { kind: 'http', host: 'Bad Host', port: 8080 })).toMatchObject({ path: ['host'] });
    expect(issue(routeInputSchema, { kind: 'http', host: 'a.example.com', path_prefix: 'v1', port: 8080 })).toMatchObject({ path: ['path_prefix'] });
    expect(issue(routeInputSchema, { kind: 'tcp', listen_port: 0, port: 5432 })).toMatchObject({ path: ['listen_port'] });
    expect(issue(routeInputSchema, { kind: 'udp' })).toMatchObject({ message: 'must be http or tcp' });
    expect(routeInputSchema.parse({ kind: 'http', host: 'a.example.com', port: 8080 })).toEqual({
      kind: 'http',
      host: 'a.example.com',
      path_prefix: '/',
      port: 8080,
      https_redirect: false,
      tls: null,
    });
  });
});
