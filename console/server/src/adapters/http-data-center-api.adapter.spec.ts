import { systemClock } from '@wharf/system';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DataCenterUnreachableError } from '../domain/ports';
import { HttpDataCenterApi } from './http-data-center-api.adapter';

// The adapter against a real HTTP server on loopback: what counts as an answer, what as unreachable.
describe('HttpDataCenterApi', () => {
  let server: Server;
  let url: string;
  let handle: (req: IncomingMessage, res: ServerResponse) => void;
  const seen: { method?: string; url?: string; authorization?: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body });
        handle(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections(); // the adapter's keep-alive sockets, and the request left unanswered
    await new Promise((resolve) => server.close(resolve));
  });

  const api = () => new HttpDataCenterApi({ timeoutMs: 300, initialMs: 10_000, maxMs: 60_000 }, systemClock);
  const dc = () => ({ id: 'dc1', name: 'east', apiUrl: url });

  it('returns any HTTP answer with its JSON body and etag, sending the token and the JSON body', async () => {
    handle = (_req, res) => res.writeHead(409, { 'content-type': 'application/json', etag: '"7"' }).end('{"error":{"code":"conflict","message":"x"}}');
    const a = api();
    const res = await a.call(dc(), 'wat_1', 'PUT', '/api/v1/x', { name: 'n' }, { 'if-match': '"6"' });
    expect(res).toEqual({ status: 409, body: { error: { code: 'conflict', message: 'x' } }, etag: '"7"' });
    expect(seen.at(-1)).toEqual({ method: 'PUT', url: '/api/v1/x', authorization: 'Bearer wat_1', body: '{"name":"n"}' });
    expect(a.health('dc1').status).toBe('ok');
  });

  it('reads a body that is not JSON as a bad answer, not as unreachable', async () => {
    handle = (_req, res) => res.writeHead(200).end('<html>');
    const res = await api().call(dc(), null, 'GET', '/api/v1/info');
    expect(res.body).toEqual({ error: { code: 'bad_answer', message: 'not JSON: <html>' } });
  });

  it('a call without an answer within the timeout is unreachable, and the data center is backed off', async () => {
    handle = () => undefined; // never answers
    const a = api();
    await expect(a.call(dc(), null, 'GET', '/api/v1/me')).rejects.toThrow(
      new DataCenterUnreachableError('dc1', 'east is unreachable: no answer within 300 ms'),
    );
    expect(a.health('dc1')).toMatchObject({ status: 'unreachable', message: 'no answer within 300 ms' });
    const before = seen.length;
    await expect(a.call(dc(), null, 'GET', '/api/v1/me')).rejects.toThrow(/^east is unreachable \(no answer within 300 ms\); next try in \d+ ms$/);
    expect(seen.length).toBe(before); // failed fast, nothing sent
  });

  it('a redirect or a proxy error page is something else in front of the API: unreachable', async () => {
    handle = (_req, res) => res.writeHead(302, { location: 'http://elsewhere/' }).end();
    await expect(api().call(dc(), null, 'GET', '/api/v1/info')).rejects.toThrow('east is unreachable: it answers HTTP 302 (a redirect), not the Wharf API');
    handle = (_req, res) => res.writeHead(502).end('Bad Gateway');
    await expect(api().call(dc(), null, 'GET', '/api/v1/info')).rejects.toThrow('east is unreachable: HTTP 502');
  });

  it('a refused connection names the error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(api().call({ id: 'dc2', name: 'west', apiUrl: `http://127.0.0.1:${port}` }, null, 'GET', '/api/v1/info')).rejects.toThrow(
      'west is unreachable: ECONNREFUSED',
    );
  });
});
