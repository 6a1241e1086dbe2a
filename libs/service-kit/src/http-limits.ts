import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { fields } from '@wharf/config';
import { createServer, STATUS_CODES, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The bounds of every HTTP server (REST, probes, metrics, socket.io handshakes). Without them a
 * client that sends fewer body bytes than its Content-Length holds a request open forever.
 */
export const httpLimitsShape = {
  WHARF_HTTP_HEADERS_TIMEOUT_MS: fields.positiveInt(10_000, 'ms a client has to send the request line and headers (then 408)'),
  WHARF_HTTP_REQUEST_TIMEOUT_MS: fields.positiveInt(30_000, 'ms a client has to send the whole request, body included (then 408)'),
  WHARF_HTTP_KEEPALIVE_TIMEOUT_MS: fields.positiveInt(65_000, 'ms an idle keep-alive connection is kept (above the usual 60 s of clients and proxies)'),
  WHARF_HTTP_MAX_HEADER_BYTES: fields.positiveInt(16_384, 'largest request head in bytes (then 431)'),
};

export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
}

export function httpLimitsFrom(config: {
  WHARF_HTTP_HEADERS_TIMEOUT_MS: number;
  WHARF_HTTP_REQUEST_TIMEOUT_MS: number;
  WHARF_HTTP_KEEPALIVE_TIMEOUT_MS: number;
  WHARF_HTTP_MAX_HEADER_BYTES: number;
}): HttpLimits {
  return {
    // Node refuses a headers timeout longer than the request timeout.
    headersTimeoutMs: Math.min(config.WHARF_HTTP_HEADERS_TIMEOUT_MS, config.WHARF_HTTP_REQUEST_TIMEOUT_MS),
    requestTimeoutMs: config.WHARF_HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: config.WHARF_HTTP_KEEPALIVE_TIMEOUT_MS,
    maxHeaderBytes: config.WHARF_HTTP_MAX_HEADER_BYTES,
  };
}

/** The raw answer to a request Node could not take (too slow, head too large, not HTTP), written before the connection closes. */
export function clientErrorResponse(err: NodeJS.ErrnoException, limits: HttpLimits): string {
  const [status, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [
          408,
          'request_timeout',
          `the request was not received in time (headers within ${limits.headersTimeoutMs} ms, all of it within ${limits.requestTimeoutMs} ms)`,
        ]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', `the request line and headers are larger than ${limits.maxHeaderBytes} bytes`]
        : [400, 'invalid', `malformed HTTP request (${err.code ?? err.message})`];
  const body = JSON.stringify({ error: { code, message } });
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * Answers requests Node rejects before they reach a route. Node's own handling writes the
 * answer and destroys the socket at once: with request bytes still unread (a 70 KB header) the
 * kernel then resets the connection and the client may never read the answer. Here the write
 * side is closed and what the client still sends is read and dropped, for a moment, first.
 */
export function answerClientErrors(server: Server, limits: HttpLimits): void {
  server.on('clientError', clientErrorHandler(limits));
}

/** The 'clientError' listener answerClientErrors installs (fastify takes it as its clientErrorHandler option). */
export function clientErrorHandler(limits: HttpLimits): (err: NodeJS.ErrnoException, socket: Duplex) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    socket.end(clientErrorResponse(err, limits));
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    setTimeout(() => socket.destroy(), 2000).unref();
  };
}

/** The node:http server with the limits that can only be given at creation, for any framework's request handler. */
export function boundedHttpServer(limits: HttpLimits, handler?: RequestListener): Server {
  return createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often the timeouts above are enforced (Node's default, 30 s, would let them run late by as much).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    handler,
  );
}

/** Nest's Express adapter with the limits applied to the server it creates (some of them can only be given at creation). */
export class BoundedExpressAdapter extends ExpressAdapter {
  constructor(private readonly limits: HttpLimits) {
    super();
  }

  override initHttpServer(options: NestApplicationOptions): void {
    if (options.httpsOptions) throw new Error('BoundedExpressAdapter serves plain HTTP; TLS ends in front of it');
    const server = boundedHttpServer(this.limits, this.getInstance());
    answerClientErrors(server, this.limits);
    this.setHttpServer(server);
  }
}
