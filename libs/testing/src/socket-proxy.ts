import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SocketProxy {
  /** The proxy's unix socket: point WHARF_DOCKER_SOCKET (or any client) at it. */
  readonly path: string;
  /** The engine "goes away": every open connection is cut and new ones are refused. */
  cut(): Promise<void>;
  /** The engine is back. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A unix-socket proxy in front of another unix socket (the Docker Engine's), for tests of what
 * happens when the engine restarts: the shared engine of the machine is never restarted, the
 * proxy is cut and restored instead. Cutting closes every connection (a request in flight fails
 * as it does when dockerd dies) and removes the socket file (new connects fail with ENOENT, as
 * while dockerd is down).
 */
export async function startSocketProxy(target: string): Promise<SocketProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-sockproxy-'));
  const path = join(dir, 'engine.sock');
  const open = new Set<Socket>();
  let server: Server | undefined;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(target);
        open.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          open.delete(client);
          open.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      s.once('error', reject);
      s.listen(path, () => resolve());
      server = s;
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = undefined;
      for (const sock of open) sock.destroy();
      open.clear();
      if (!s) return resolve();
      s.close(() => resolve());
    });
  await listen();
  return {
    path,
    cut: stop,
    restore: async () => {
      if (!server) await listen();
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
