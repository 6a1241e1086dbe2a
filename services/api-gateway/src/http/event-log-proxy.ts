import type { Logger } from '@wharf/logging';
import { request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';

/** The event-log paths this API answers by proxy: socket.io (timelines, runtime logs) and operation history. */
export const EVENT_LOG_PROXY_PATHS = { socketIo: '/socket.io', history: '/api/v1/operations' } as const;

/** Whether a request URL (path + query) belongs to event-log. */
export function isEventLogPath(url: string): boolean {
  const path = url.split('?', 1)[0];
  return (
    path === EVENT_LOG_PROXY_PATHS.socketIo ||
    path.startsWith(`${EVENT_LOG_PROXY_PATHS.socketIo}/`) ||
    path === EVENT_LOG_PROXY_PATHS.history ||
    path.startsWith(`${EVENT_LOG_PROXY_PATHS.history}/`)
  );
}

const UNAVAILABLE = JSON.stringify({ error: { code: 'unavailable', message: 'event-log is unavailable; retry shortly' } });

/**
 * The data center's socket.io entry: a byte proxy to event-log, not a relay. event-log already
 * authenticates the same tokens with the same tenant rights, keeps one room per operation and
 * resumes by seq; relaying would hold a second subscription per client here, re-encode every
 * batch and add a place where a reconnect could lose or repeat a line. Proxied, a client sees
 * exactly event-log's protocol (followOperation() works unchanged) at this API's address, and
 * this process keeps no state per connection. WebSocket upgrades are piped as raw TCP after
 * the request head; long-polling and history requests are forwarded as HTTP.
 */
export class EventLogProxy {
  private readonly target: URL;

  constructor(
    target: string,
    private readonly logger: Logger,
  ) {
    this.target = new URL(target);
  }

  private get port(): number {
    return Number(this.target.port || (this.target.protocol === 'https:' ? 443 : 80));
  }

  /** The node:http handler for requests whose path isEventLogPath: taken before the framework, so bodies stream through untouched. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url ?? '/';
    const headers = { ...req.headers, host: this.target.host, 'x-forwarded-for': req.socket.remoteAddress ?? '' };
    const upstream = request({ host: this.target.hostname, port: this.port, method: req.method, path, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      this.logger.warn({ err: err.message }, 'event-log proxy: upstream failed');
      if (!res.headersSent) res.writeHead(503, { 'Retry-After': '1', 'Content-Type': 'application/json' }).end(UNAVAILABLE);
      else res.destroy();
    });
    req.on('aborted', () => upstream.destroy());
    req.pipe(upstream);
  };

  /** Takes WebSocket upgrades for event-log's paths on the API's server; anything else is refused (this API has no other upgrades). */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      if (!isEventLogPath(req.url ?? '')) return void socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      let connected = false;
      const upstream = connect(this.port, this.target.hostname, () => {
        connected = true;
        const lines = [`${req.method} ${req.url} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) {
          const name = req.rawHeaders[i];
          lines.push(`${name}: ${name.toLowerCase() === 'host' ? this.target.host : req.rawHeaders[i + 1]}`);
        }
        lines.push(`X-Forwarded-For: ${req.socket.remoteAddress ?? ''}`);
        upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (head.length) upstream.write(head);
        upstream.pipe(socket).pipe(upstream);
      });
      upstream.on('error', (err) => {
        this.logger.warn({ err: err.message }, 'event-log proxy: websocket upstream failed');
        if (!connected && socket.writable) socket.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n`);
        else socket.destroy();
      });
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
    });
  }
}
