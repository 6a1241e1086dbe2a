import type { eventsV1 } from '@wharf/contracts';
import { createLogger } from '@wharf/logging';
import { ManualClock } from '@wharf/testing';
import { NginxRejectedError } from '../adapters/nginx.adapter';
import type { RenderedConfig } from '../domain/render-nginx-config';
import type { RoutingTable } from '../domain/render-routing-table';
import type { RouteCatalog } from '../domain/route-catalog';
import { componentCreated, settings, shop } from '../domain/test-catalog';
import { GatewaySync, type NginxPort, type TablePort } from './gateway-sync';

/** An nginx that takes `delayMs` per change and remembers what it was given. */
class FakeNginx implements NginxPort {
  runningGeneration: string | undefined = undefined;
  applied: RenderedConfig[] = [];
  refuse?: (c: RenderedConfig) => string | undefined;
  constructor(
    readonly paths = { prefix: '/tmp/fake', socket: '/tmp/fake/run/x.sock' },
    private readonly delayMs = 20,
  ) {}
  async apply(c: RenderedConfig) {
    if (c.generation === this.runningGeneration) return 'unchanged' as const;
    const why = this.refuse?.(c);
    if (why) throw new NginxRejectedError('fake', why);
    await new Promise((r) => setTimeout(r, this.delayMs));
    this.applied.push(c);
    this.runningGeneration = c.generation;
    return 'reloaded' as const;
  }
}

class FakeTable implements TablePort {
  held = '';
  pushes = 0;
  async version() {
    return this.held;
  }
  async replace(t: RoutingTable) {
    this.held = t.version;
    this.pushes++;
  }
}

const tcp = (p: number, port: number) =>
  componentCreated(p, `a1.c${p}`, 'a1', 't1', { name: `c${p}`, ports: [{ port: 7, protocol: 'tcp' }], tcpPorts: [{ listenPort: port, port: 7 }] });

function setup(catalog: RouteCatalog, openSecret: (s: Uint8Array, c: string) => string = () => '') {
  const http = new FakeNginx();
  const stream = new FakeNginx({ prefix: '/tmp/fake2', socket: '/tmp/fake2/run/x.sock' }, 50);
  const table = new FakeTable();
  const sync = new GatewaySync({
    settings,
    http,
    stream,
    table,
    catalog: () => catalog,
    endpoints: () => new Map(),
    endpointsRevision: () => 0,
    openSecret,
    clock: new ManualClock(0),
    logger: createLogger('test', 'silent'),
  });
  return { http, stream, table, sync };
}

describe('GatewaySync', () => {
  it('does nothing before begin(), then applies the whole state once', async () => {
    const catalog = shop(tcp(10, 15000));
    const { stream, table, sync } = setup(catalog);
    sync.request();
    await new Promise((r) => setTimeout(r, 30));
    expect(stream.applied).toHaveLength(0);
    await sync.begin();
    expect(stream.applied).toHaveLength(1);
    expect(table.pushes).toBe(1);
    // Nothing changed: nothing is written or pushed again.
    await sync.settled();
    expect(stream.applied).toHaveLength(1);
    expect(table.pushes).toBe(1);
  });

  it('coalesces a burst of changes into one more reload', async () => {
    const catalog = shop(tcp(10, 15000));
    const { stream, sync } = setup(catalog);
    await sync.begin();
    for (let i = 0; i < 10; i++) {
      catalog.components.set(`a1.x${i}`, {
        ...catalog.components.get('a1.c10')!,
        id: `a1.x${i}`,
        name: `x${i}`,
        spec: (tcp(11 + i, 16000 + i).message as eventsV1.ComponentCreated).spec!,
      } as never);
      catalog.changes++; // as the fold does
      sync.request();
    }
    await sync.settled();
    // The first request started a reload; the nine during it became one more.
    expect(stream.applied.length).toBeLessThanOrEqual(3);
    expect(stream.applied.at(-1)!.text).toContain('16009');
  });

  it('leaves out a TCP route nginx cannot bind and applies the rest', async () => {
    const catalog = shop(tcp(10, 15000), tcp(11, 15001));
    const { stream, sync } = setup(catalog);
    stream.refuse = (c) => (c.text.includes('15001') ? '[emerg] bind() to 127.0.0.1:15001 failed (98: Address already in use)' : undefined);
    await sync.begin();
    expect(stream.applied.at(-1)!.text).toContain('15000');
    expect(stream.applied.at(-1)!.text).not.toContain('15001');
    expect(sync.status.state!.rejections).toEqual([
      { componentId: 'a1.c11', what: 'TCP port 15001', reason: expect.stringMatching(/^nginx cannot listen on it: bind\(\) to 127.0.0.1:15001 failed/) },
    ]);
    expect(sync.status.errors).toEqual({});
  });

  it('keeps the last good config and reports a config nginx refuses for another reason', async () => {
    const catalog = shop(tcp(10, 15000));
    const { stream, sync } = setup(catalog);
    await sync.begin();
    const good = stream.runningGeneration;
    stream.refuse = () => '[emerg] something else';
    catalog.components.delete('a1.c10');
    catalog.changes++;
    await sync.settled();
    expect(stream.runningGeneration).toBe(good);
    expect(sync.status.errors.stream).toMatch(/something else/);
  });

  it('reuses the desired state while nothing changed (a resync does not open and parse certificates again)', async () => {
    const catalog = shop(
      componentCreated(10, 'a1.api', 'a1', 't1', {
        name: 'api',
        ports: [{ port: 8080, protocol: 'http', public: true }],
        routes: [{ host: 'x.example.com', pathPrefix: '/', port: 8080, tls: { certificatePem: 'not a certificate', sealedPrivateKey: new Uint8Array(40) } }],
      }),
    );
    const opened = jest.fn(() => 'key');
    const { sync } = setup(catalog, opened);
    await sync.begin();
    await sync.settled();
    await sync.settled();
    expect(opened).toHaveBeenCalledTimes(1);
    catalog.changes++;
    await sync.settled();
    expect(opened).toHaveBeenCalledTimes(2);
  });
});
