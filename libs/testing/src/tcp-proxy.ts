import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './ports';

export interface TcpProxy {
  /** The target's scheme on 127.0.0.1:PORT (TLS passes through untouched): point a client here instead of at the target. */
  readonly endpoint: string;
  /** Drops every connection and refuses new ones until restore(): a network partition for the clients behind it. */
  cut(): Promise<void>;
  /** Accepts connections again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP relay in front of one target (e.g. etcd), so a test can cut one client off while
 * others keep writing to the target directly.
 */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const url = new URL(target);
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(Number(url.port), url.hostname);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on('close', () => sockets.delete(sock));
          sock.on('error', () => undefined);
        }
        client.pipe(upstream);
        upstream.pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const sock of sockets) sock.destroy();
      sockets.clear();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });

  await listen();
  return {
    endpoint: `${url.protocol}//127.0.0.1:${port}`,
    cut: stop,
    restore: () => (server ? Promise.resolve() : listen()),
    close: stop,
  };
}
