import { Controller, Module, Post, Body } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { connect, type Socket } from 'node:net';
import { BoundedExpressAdapter, ProbesModule, Readiness, type HttpLimits } from './index';

@Controller()
class EchoController {
  @Post('echo')
  echo(@Body() body: unknown) {
    return body;
  }
}

const readiness = new Readiness().add({ name: 'dependency', check: () => ({ ok: flag.ready, detail: flag.ready ? undefined : 'not yet' }) });
const flag = { ready: false };

@Module({ imports: [ProbesModule.forRoot(readiness)], controllers: [EchoController] })
class TestModule {}

/** Sends raw bytes and collects everything the server answers until it closes; `reset` tells whether the connection was reset. */
function raw(port: number, send: (s: Socket) => void): Promise<{ text: string; reset: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let reset = false;
    s.on('data', (d) => (text += d.toString()));
    s.on('error', (err: NodeJS.ErrnoException) => (reset = err.code === 'ECONNRESET' || reset));
    s.on('close', () => resolve({ text, reset }));
    s.on('connect', () => send(s));
  });
}

// A real Nest app on a loopback port, with small limits so the slow cases end quickly.
describe('bounded HTTP server', () => {
  const limits: HttpLimits = { headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 5000, maxHeaderBytes: 8192 };
  let app: INestApplication;
  let port: number;

  beforeAll(async () => {
    app = await NestFactory.create(TestModule, new BoundedExpressAdapter(limits), { logger: false });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as { port: number }).port;
  });
  afterAll(() => app.close());

  it('answers 408 to a body shorter than its Content-Length', async () => {
    const res = await raw(port, (s) => s.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":'));
    expect(res.text).toMatch(/^HTTP\/1.1 408 Request Timeout/);
    expect(res.text).toContain('"code":"request_timeout"');
  });

  it('answers 408 to headers that never end', async () => {
    const res = await raw(port, (s) => s.write('GET /livez HTTP/1.1\r\nHost: x\r\n'));
    expect(res.text).toMatch(/^HTTP\/1.1 408/);
  });

  it('answers 431 to a 70 KB header, readable by the client without a reset', async () => {
    const res = await raw(port, (s) => s.write(`GET /livez HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(70_000)}\r\n\r\n`));
    expect(res.text).toMatch(/^HTTP\/1.1 431/);
    expect(res.text).toContain('larger than 8192 bytes');
    expect(res.reset).toBe(false);
  });

  it('answers 400 to bytes that are not HTTP', async () => {
    const res = await raw(port, (s) => s.write('\x16\x03\x01 hello\r\n\r\n'));
    expect(res.text).toMatch(/^HTTP\/1.1 400/);
  });

  it('serves ordinary requests, keep-alive included', async () => {
    const body = JSON.stringify({ hello: 'world' });
    const first = await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(await first.json()).toEqual({ hello: 'world' });
    expect((await fetch(`http://127.0.0.1:${port}/livez`)).status).toBe(200);
  });

  it('reports readiness with 503 and the failing check, then 200', async () => {
    flag.ready = false;
    const down = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'not_ready', checks: { dependency: { ok: false, detail: 'not yet' } } });
    flag.ready = true;
    const up = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: 'ready', checks: { dependency: { ok: true } } });
  });
});
