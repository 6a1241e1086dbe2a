import { createCa, issueCertificate } from '@wharf/pki';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface GitHttpServer {
  /** http://127.0.0.1:PORT/<name>.git, or https:// with `tls` */
  url(name: string): string;
  /** With `tls`: the PEM of the CA that signed the server's certificate (a private git host's CA). */
  readonly caPem?: string;
  /** Authorization headers of every request, in order (what a client sent). */
  readonly authorizations: (string | undefined)[];
  /** Every request path with its query (to check no credential travelled in a URL). */
  readonly paths: string[];
  stop(): Promise<void>;
}

/**
 * git's smart HTTP (`git http-backend` as a CGI) over the bare repositories of `projectRoot`,
 * as git hosts serve them: behind HTTP Basic authentication when given a user name and a
 * password (a private repository a client clones with a token), open to anyone without.
 */
export async function startGitHttpServer(options: {
  projectRoot: string;
  username?: string;
  password?: string;
  /** Serve HTTPS with a certificate for 127.0.0.1 from a CA of its own (see caPem). */
  tls?: boolean;
}): Promise<GitHttpServer> {
  const expected =
    options.username !== undefined && options.password !== undefined
      ? `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`
      : undefined;
  const authorizations: (string | undefined)[] = [];
  const paths: string[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    authorizations.push(req.headers.authorization);
    paths.push(req.url ?? '');
    if (expected !== undefined && req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="wharf-test-git"' }).end('authentication required\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: options.projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(expected !== undefined ? { REMOTE_USER: options.username } : {}),
        REMOTE_ADDR: '127.0.0.1',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let body = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (body) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        const [name, value] = [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else if (name) headers[name] = value;
      }
      res.writeHead(status, headers);
      body = true;
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on('end', () => res.end());
    cgi.on('error', () => res.destroy());
  };
  const ca = options.tls ? await createCa({ commonName: 'Wharf test git host CA', validDays: 2 }) : undefined;
  const cert = ca ? await issueCertificate(ca, { identity: 'git-host', validDays: 2 }) : undefined;
  const server = cert ? createHttpsServer({ key: cert.keyPem, cert: cert.certPem }, handle) : createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (name) => `${cert ? 'https' : 'http'}://127.0.0.1:${port}/${name}.git`,
    caPem: ca?.certPem,
    authorizations,
    paths,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
