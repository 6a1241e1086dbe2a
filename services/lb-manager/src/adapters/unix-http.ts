import { request } from 'node:http';

export interface UnixHttpResponse {
  status: number;
  body: string;
}

/** One HTTP request over a unix socket (nginx's admin/control socket), bounded by a timeout. */
export function unixHttp(socketPath: string, method: 'GET' | 'PUT', path: string, body?: string, timeoutMs = 5000): Promise<UnixHttpResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} on ${socketPath}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
