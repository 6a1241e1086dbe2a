import { createLogger } from '@wharf/logging';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderStreamConfig } from '../domain/render-nginx-config';
import type { TcpRoute } from '../domain/gateway-state';
import { settings } from '../domain/test-catalog';
import { closedToWorkers, NginxInstance, NginxRejectedError } from './nginx.adapter';

// The adapter against Debian's real nginx, in a prefix of its own: nginx -t before anything
// is swapped in, a reload confirmed by the new generation, a refused config never replacing
// the last good one, an unchanged one not even written.
jest.setTimeout(60_000);

const logger = createLogger('test', 'silent');
let dir: string;
let nginx: NginxInstance;
let taken: Server;
let takenPort: number;

const route = (listenPort: number, component = 'echo'): TcpRoute => ({
  listenPort,
  upstream: { key: `a1.${component}:7`, labels: { componentId: `a1.${component}`, tenant: 'acme', app: 'shop', component }, peers: [] },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wharf-nginx-adapter-'));
  chmodSync(dir, 0o755);
  nginx = new NginxInstance({ name: 'stream', paths: { prefix: join(dir, 'stream'), socket: join(dir, 'stream', 'run', 'control.sock') }, logger });
  await nginx.prepare();
  // A port some other process holds: nginx -t cannot see it, the reload fails on bind().
  taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  takenPort = (taken.address() as { port: number }).port;
});

afterAll(async () => {
  await nginx?.stop();
  taken?.close();
  rmSync(dir, { recursive: true, force: true });
});

const conf = () => readFileSync(join(dir, 'stream', 'conf', 'nginx.conf'), 'utf8');
const render = (routes: TcpRoute[]) => renderStreamConfig(settings, nginx.paths, routes);

describe('NginxInstance', () => {
  it('starts, then reloads only when the text changes', async () => {
    const first = render([route(21001)]);
    expect(await nginx.apply(first)).toBe('started');
    expect(await nginx.apply(first)).toBe('unchanged');
    expect(nginx.counts).toMatchObject({ writes: 1, starts: 1, reloads: 0 });
    const second = render([route(21001), route(21002, 'db')]);
    expect(await nginx.apply(second)).toBe('reloaded');
    expect(nginx.runningGeneration).toBe(second.generation);
    expect(nginx.counts).toMatchObject({ writes: 2, reloads: 1 });
  });

  it('refuses a config nginx -t rejects, with its reason, and keeps the last good file and master', async () => {
    const good = nginx.runningGeneration;
    const before = conf();
    const broken = { text: render([route(21003)]).text.replace('stream {', 'stream { nonsense_directive on;'), generation: 'broken' };
    await expect(nginx.apply(broken)).rejects.toThrow(NginxRejectedError);
    await expect(nginx.apply(broken)).rejects.toThrow(/unknown directive "nonsense_directive"/);
    expect(conf()).toBe(before);
    expect(nginx.runningGeneration).toBe(good);
  });

  it('refuses a reload that does not take (a port taken by another process) and puts the last good file back', async () => {
    const good = nginx.runningGeneration;
    const before = conf();
    const error = await nginx.apply(render([route(21001), route(takenPort, 'thief')])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NginxRejectedError);
    expect((error as NginxRejectedError).reason).toMatch(
      new RegExp(`^\\[emerg\\] bind\\(\\) to 127.0.0.1:${takenPort} failed \\(98: Address already in use\\)`),
    );
    expect(conf()).toBe(before);
    expect(nginx.runningGeneration).toBe(good);
    // The running master still serves the last good config: a good change goes through after.
    expect(await nginx.apply(render([route(21001)]))).toBe('reloaded');
  });

  it('adopts a master left running by an earlier lb-manager instead of starting another', async () => {
    const again = new NginxInstance({ name: 'stream', paths: nginx.paths, logger });
    await again.prepare();
    expect(again.masterPid).toBe(nginx.masterPid);
    expect(await again.apply(render([route(21001)]))).toBe('unchanged');
  });
});

it("names the first directory above a prefix that nginx's workers cannot enter", () => {
  const top = mkdtempSync(join(tmpdir(), 'wharf-nginx-closed-')); // 0700, as mkdtemp makes it
  try {
    expect(closedToWorkers(join(top, 'lb', 'http'))).toBe(top);
    chmodSync(top, 0o711);
    expect(closedToWorkers(join(top, 'lb', 'http'))).toBeUndefined();
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});
