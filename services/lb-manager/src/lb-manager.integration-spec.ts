import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { dockerClient, startEtcd, type EtcdInstance } from '@wharf/testing';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { request as httpRequest } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { echoImage, webImage } from '../test/images';
import { RouteEvents, setEndpoints, startLbManager, testBox, TestNetwork, viaGateway, within, type RunningLbManager } from '../test/harness';
import { tlsKeyContext } from './domain/desired-gateway';

// The real thing: etcd, the Docker Engine (replicas on a network this file creates), the built
// lb-manager process and its two nginx instances. Time bounds are waited on and reported, never asserted.
jest.setTimeout(120_000);

const fixture = (name: string) => readFileSync(join(__dirname, 'domain', '__fixtures__', name), 'utf8');
const docker = dockerClient();
const run = randomBytes(3).toString('hex');
const net = new TestNetwork(docker, `wharf-lbtest-${run}`);
let etcd: EtcdInstance;
let client: Etcd3;
let routes: RouteEvents;
let lb: RunningLbManager;
const keys = new KeyLayout('/wharf');
const web = { v1: '', v2: '' };
let echo = '';
const webPorts = [{ port: 8080, protocol: 'http', public: true }];

beforeAll(async () => {
  etcd = await startEtcd();
  client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  routes = new RouteEvents(new EtcdEventStore({ client, keys }));
  [web.v1, web.v2, echo] = await Promise.all([
    webImage(docker, `wharf-lbtest-web:v1-${run}`, 'v1'),
    webImage(docker, `wharf-lbtest-web:v2-${run}`, 'v2'),
    echoImage(docker, `wharf-lbtest-echo:${run}`),
  ]);
  await net.create();
  await routes.tenant('t1', 'acme');
  await routes.app('a1', 't1', 'shop');
  lb = await startLbManager(etcd, { WHARF_LB_CLIENT_MAX_BODY_MIB: '1' });
});

afterAll(async () => {
  await lb?.stop();
  await net.destroy();
  for (const image of [web.v1, web.v2, echo])
    if (image)
      await docker
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined);
  client?.close();
  await etcd?.destroy();
});

describe('lb-manager against real nginx and containers', () => {
  it('answers a route added within a second, and 404 within a second once it is removed', async () => {
    const { address } = await net.run(web.v1, 'api-1');
    await setEndpoints(client, keys, 'a1.api', [address], [{ port: 8080, protocol: 'http' }]);
    await routes.component('a1.api', 'a1', 't1', { name: 'api', ports: webPorts, routes: [{ host: 'api.example.com', pathPrefix: '/v1', port: 8080 }] });
    const added = await within('the new route to answer', 1000, async () => {
      const r = await viaGateway(lb.httpPort, 'api.example.com', '/v1/orders').catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    });
    console.log(`route live after ${added.ms} ms`);
    expect(added.value.body).toMatch(/^v1 host=api.example.com xff=127.0.0.1 proto=http fhost=api.example.com/);
    // The default host of the public port, and a path outside the prefix.
    expect((await viaGateway(lb.httpPort, 'api.shop.acme.localhost', '/')).body).toMatch(/^v1 /);
    expect((await viaGateway(lb.httpPort, 'api.example.com', '/v1x')).status).toBe(404);

    await routes.update('a1.api', { name: 'api', ports: webPorts });
    const removed = await within('the removed route to answer 404', 1000, async () => {
      const r = await viaGateway(lb.httpPort, 'api.example.com', '/v1/orders').catch(() => undefined);
      return r?.status === 404 ? r : undefined;
    });
    console.log(`route gone after ${removed.ms} ms`);
    expect(removed.value.body).toMatch(/No route for api.example.com\/v1\/orders/);
    // No reload was needed for any of it: the http instance was started once, never reloaded.
    expect(await lb.metric('wharf_lb_nginx_reloads_total', 'instance="http"')).toBe(0);
  });

  it('answers 503 with a page saying so when the component has no ready replica', async () => {
    await routes.component('a1.idle', 'a1', 't1', { name: 'idle', ports: webPorts });
    const r = await within('the 503 page', 2000, async () => {
      const res = await viaGateway(lb.httpPort, 'idle.shop.acme.localhost');
      return res.status === 503 ? res : undefined;
    });
    expect(r.value.body).toMatch(/Component idle of app shop has no ready replica/);
  });

  it('carries a TCP port to the component: an echo answers through the gateway port', async () => {
    const { address } = await net.run(echo, 'echo-1');
    await setEndpoints(client, keys, 'a1.echo', [address], [{ port: 7000, protocol: 'tcp' }]);
    const listenPort = await portBelowEphemeral();
    await routes.component('a1.echo', 'a1', 't1', { name: 'echo', ports: [{ port: 7000, protocol: 'tcp' }], tcpPorts: [{ listenPort, port: 7000 }] });
    const answer = await within('the echo through the gateway', 5000, () => echoOnce(listenPort, 'hello wharf\n').catch(() => undefined));
    expect(answer.value).toBe('hello wharf\n');
    // The echo may answer before the sync that reloaded nginx has recorded its state.
    const view = await within('/routes to show the TCP route', 5000, async () => ((await lb.routes()).tcp.length ? (await lb.routes()).tcp : undefined));
    expect(view.value).toEqual([{ listen_port: listenPort, upstream: 'a1.echo:7000', peers: [`${address}:7000`] }]);
  });

  it('leaves out a TCP route whose port another process holds, saying why, and keeps serving the others', async () => {
    const holder = createServer();
    const heldPort = await portBelowEphemeral();
    await new Promise<void>((r) => holder.listen(heldPort, '127.0.0.1', r));
    try {
      await routes.component('a1.blocked', 'a1', 't1', {
        name: 'blocked',
        ports: [{ port: 7000, protocol: 'tcp' }],
        tcpPorts: [{ listenPort: heldPort, port: 7000 }],
      });
      const r = await within('the rejection of the held port', 15_000, async () => (await lb.routes()).rejected.find((x) => x.component_id === 'a1.blocked'));
      expect(r.value.reason).toMatch(new RegExp(`nginx cannot listen on it: bind\\(\\) to 127.0.0.1:${heldPort} failed`));
      const echoPort = (await lb.routes()).tcp.find((t) => t.upstream === 'a1.echo:7000')!.listen_port;
      expect(await echoOnce(echoPort, 'still here\n')).toBe('still here\n');
    } finally {
      holder.close();
      await routes.remove('a1.blocked');
    }
  });

  it('upgrades websockets, limits request bodies and forwards X-Forwarded-*', async () => {
    // A websocket echo on the host, reached as a replica at 127.0.0.1.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (socket, req) => socket.on('message', (m) => socket.send(`${req.headers['x-forwarded-host']} ${String(m)}`)));
    const wsPort = (wss.address() as { port: number }).port;
    try {
      await setEndpoints(client, keys, 'a1.ws', ['127.0.0.1']);
      await routes.component('a1.ws', 'a1', 't1', { name: 'ws', ports: [{ port: wsPort, protocol: 'http', public: true }] });
      const host = 'ws.shop.acme.localhost';
      await within('the websocket route', 5000, async () => ((await viaGateway(lb.httpPort, host).catch(() => undefined))?.status === 426 ? true : undefined));
      const reply = await new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${lb.httpPort}/chat`, { headers: { host } });
        ws.on('open', () => ws.send('hello'));
        ws.on('message', (m) => (resolve(String(m)), ws.close()));
        ws.on('error', reject);
        setTimeout(() => reject(new Error('no websocket answer within 5 s')), 5000);
      });
      expect(reply).toBe(`${host} hello`);
    } finally {
      wss.close();
    }
    // client_max_body_size: the test instance allows 1 MiB.
    const big = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: lb.httpPort, method: 'POST', path: '/', headers: { host: 'api.shop.acme.localhost', 'content-length': 2 * 1024 * 1024 } },
        (res) => (res.resume(), resolve(res.statusCode ?? 0)),
      );
      req.on('error', reject);
      req.end(Buffer.alloc(2 * 1024 * 1024));
    });
    expect(big).toBe(413);
  });

  it('serves a host its own certificate, refuses a bad one with the reason, and redirects HTTP to HTTPS on request', async () => {
    const { address } = await net.run(web.v1, 'secure-1');
    await setEndpoints(client, keys, 'a1.secure', [address]);
    const tls = (host: string, cert: string, key: string) => ({
      certificatePem: fixture(cert),
      sealedPrivateKey: testBox.seal(fixture(key), tlsKeyContext('a1.secure', host)),
    });
    await routes.component('a1.secure', 'a1', 't1', {
      name: 'secure',
      ports: webPorts,
      routes: [
        { host: 'shop.example.com', pathPrefix: '/', port: 8080, httpsRedirect: true, tls: tls('shop.example.com', 'shop.crt', 'shop.key') },
        { host: 'wrong.example.com', pathPrefix: '/', port: 8080, tls: tls('wrong.example.com', 'other.crt', 'other.key') },
      ],
    });
    const served = await within('the certificate of shop.example.com', 5000, async () => {
      const c = await handshake(lb.httpsPort, 'shop.example.com').catch(() => undefined);
      return c?.subject === 'CN=shop.example.com' ? c : undefined;
    });
    expect(served.value.subject).toBe('CN=shop.example.com');
    // The bad certificate is not served (the data center's default is) and /routes says why.
    expect((await handshake(lb.httpsPort, 'wrong.example.com')).subject).toBe('CN=localhost');
    const rejected = (await lb.routes()).rejected.find((r) => r.what === 'tls wrong.example.com');
    expect(rejected?.reason).toMatch(/does not match host wrong.example.com/);
    const redirect = await viaGateway(lb.httpPort, 'shop.example.com', '/cart?x=1');
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe(`https://shop.example.com:${lb.httpsPort}/cart?x=1`);
  });

  it('refuses a second claim on a host and path: the oldest claim keeps it, /routes names the owner', async () => {
    await routes.component('a1.thief', 'a1', 't1', { name: 'thief', ports: webPorts, routes: [{ host: 'shop.example.com', pathPrefix: '/', port: 8080 }] });
    const r = await within('the rejection', 2000, async () => (await lb.routes()).rejected.find((x) => x.component_id === 'a1.thief'));
    expect(r.value.reason).toBe('shop.example.com/ is owned by component acme/shop/secure (a1.secure), which claimed it first');
    expect((await lb.routes()).http.find((h) => h.host === 'shop.example.com')?.upstream).toBe('a1.secure:8080');
  });

  it('renders the same table and config on a second instance from the same state, each writing its config once', async () => {
    // A second gateway node: same ports on another loopback address (as on another machine).
    const second = await startLbManager(etcd, {
      WHARF_LB_CLIENT_MAX_BODY_MIB: '1',
      WHARF_LB_LISTEN_ADDRESS: '127.0.0.2',
      WHARF_LB_HTTP_PORT: String(lb.httpPort),
      WHARF_LB_HTTPS_PORT: String(lb.httpsPort),
    });
    try {
      const [a, b] = await Promise.all([lb.routes(), second.routes()]);
      expect(b.table_version).toBe(a.table_version);
      const conf = (dir: string, name: string, address: string) =>
        readFileSync(join(dir, name, 'conf', 'nginx.conf'), 'utf8')
          .split(dir)
          .join('<prefix>')
          .split(address)
          .join('<address>')
          .replace(/[0-9a-f]{32}/g, '<generation>');
      for (const name of ['http', 'stream']) expect(conf(second.dataDir, name, '127.0.0.2')).toBe(conf(lb.dataDir, name, '127.0.0.1'));
      // Each config written once (at its start): the state was read whole before nginx started.
      expect(await second.metric('wharf_lb_nginx_config_writes_total', 'instance="stream"')).toBe(1);
      expect(await second.metric('wharf_lb_nginx_config_writes_total', 'instance="http"')).toBe(1);
      expect(await second.metric('wharf_lb_routing_table_pushes_total')).toBe(1);
      // The default certificate was made once, by the first instance: both serve the same.
      const [c1, c2] = await Promise.all([handshake(lb.httpsPort, 'x.localhost'), handshake(lb.httpsPort, 'x.localhost', '127.0.0.2')]);
      expect(c2.fingerprint256).toBe(c1.fingerprint256);
      // Both answer the same routes.
      expect((await viaGateway(lb.httpPort, 'shop.example.com', '/', {}, '127.0.0.2')).status).toBe(308);
    } finally {
      await second.stop();
    }
  });
});

/** A free port under the kernel's ephemeral range (32768+), where a client can never connect to itself. */
async function portBelowEphemeral(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 20000-32000');
}

function echoOnce(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1');
    let got = '';
    socket.setTimeout(3000, () => socket.destroy(new Error('no echo within 3 s')));
    // A connection to a local port nobody listens on can connect to itself (same ephemeral port): not an echo.
    socket.on('connect', () => (socket.localPort === socket.remotePort ? socket.destroy(new Error('connected to itself')) : socket.write(text)));
    socket.on('data', (d) => {
      got += d.toString();
      if (got.length >= text.length) {
        socket.end();
        resolve(got);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => (got.length < text.length ? reject(new Error(`closed after ${JSON.stringify(got)}`)) : undefined));
  });
}

function handshake(port: number, servername: string, host = '127.0.0.1'): Promise<{ subject: string; fingerprint256: string }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, servername, rejectUnauthorized: false });
    socket.setTimeout(3000, () => socket.destroy(new Error('no handshake within 3 s')));
    socket.on('secureConnect', () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (!cert) return reject(new Error('no certificate'));
      resolve({ subject: cert.subject, fingerprint256: cert.fingerprint256 });
    });
    socket.on('error', reject);
  });
}
