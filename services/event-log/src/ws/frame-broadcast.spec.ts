import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { broadcastFrame, directWritable, eventFrame } from './frame-broadcast';

// A real socket.io server and real clients on 127.0.0.1: the frame must be exactly what
// socket.io-client decodes, and order must hold when engine.io still has packets queued.
describe('broadcastFrame', () => {
  let http: HttpServer;
  let server: Server;
  let url: string;
  const clients: ClientSocket[] = [];

  beforeEach(async () => {
    http = createServer();
    server = new Server(http, { transports: ['websocket', 'polling'] });
    server.on('connection', (s) => void s.join('room-a'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server.close();
  });

  async function client(transports: ('websocket' | 'polling')[]): Promise<{ socket: ClientSocket; got: unknown[] }> {
    const socket = connect(url, { transports, forceNew: true, reconnection: false, upgrade: false });
    clients.push(socket);
    const got: unknown[] = [];
    socket.on('entries', (m: unknown) => got.push(m));
    await new Promise<void>((resolve, reject) => (socket.once('connect', resolve), socket.once('connect_error', reject)));
    // The server has joined it to the room once its connection handler ran.
    await new Promise((r) => setTimeout(r, 20));
    return { socket, got };
  }

  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(check()).toBe(true);
  };

  it('delivers to WebSocket clients exactly what socket.io would (unicode, nesting, numbers), and to long-polling clients through socket.io', async () => {
    const ws = await client(['websocket']);
    const polling = await client(['polling']);
    const wsSocket = [...server.sockets.sockets.values()].find((s) => s.conn.transport.name === 'websocket')!;
    const pollSocket = [...server.sockets.sockets.values()].find((s) => s.conn.transport.name === 'polling')!;
    expect(directWritable(wsSocket.conn)).toBeDefined();
    expect(directWritable(pollSocket.conn)).toBeUndefined();
    const payload = { event_id: 'op-1', entries: [{ seq: 1, text: 'ünïcødé ✓ "quoted" \\ back', n: 1.5, nested: { a: [1, null, true] } }] };
    broadcastFrame(server, 'room-a', 'entries', payload);
    // A big payload takes the 16-bit length form of the frame header.
    const big = { event_id: 'op-1', entries: [{ seq: 2, text: 'x'.repeat(70_000) }] };
    broadcastFrame(server, 'room-a', 'entries', big);
    await until(() => ws.got.length === 2 && polling.got.length === 2);
    expect(ws.got).toEqual([payload, big]);
    expect(polling.got).toEqual([payload, big]);
  });

  it('keeps order behind packets engine.io has not written yet (they go first, the broadcast follows through socket.io)', async () => {
    const ws = await client(['websocket']);
    const socket = [...server.sockets.sockets.values()][0];
    // A packet waiting in engine.io's write buffer, as while a previous write is in flight.
    const conn = socket.conn as unknown as { writeBuffer: unknown[]; transport: { writable: boolean } };
    conn.transport.writable = false;
    socket.emit('entries', { event_id: 'op-1', entries: [{ seq: 1 }] });
    expect(conn.writeBuffer.length).toBe(1);
    expect(directWritable(socket.conn)).toBeUndefined();
    broadcastFrame(server, 'room-a', 'entries', { event_id: 'op-1', entries: [{ seq: 2 }] });
    conn.transport.writable = true;
    (socket.conn as unknown as { flush(): void }).flush();
    await until(() => ws.got.length === 2);
    expect(ws.got).toEqual([
      { event_id: 'op-1', entries: [{ seq: 1 }] },
      { event_id: 'op-1', entries: [{ seq: 2 }] },
    ]);
  });

  it('sends nothing to sockets outside the room, and nothing for an empty room', async () => {
    const inRoom = await client(['websocket']);
    const outside = await client(['websocket']);
    const second = [...server.sockets.sockets.values()][1];
    void second.leave('room-a');
    broadcastFrame(server, 'room-b', 'entries', { event_id: 'nobody' });
    broadcastFrame(server, 'room-a', 'entries', { event_id: 'op-1' });
    await until(() => inRoom.got.length === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(outside.got).toEqual([]);
    expect(inRoom.got).toEqual([{ event_id: 'op-1' }]);
  });

  it('refuses connections that do not look like an open, uncompressed, idle WebSocket', () => {
    const open = () => ({
      readyState: 'open',
      writeBuffer: [] as unknown[],
      transport: {
        name: 'websocket',
        perMessageDeflate: false,
        socket: { readyState: 1, _sender: { _queue: [] }, _socket: { writable: true, write: () => true } },
      },
    });
    expect(directWritable(open())).toBeDefined();
    const broken: [string, (c: ReturnType<typeof open>) => void][] = [
      ['closing', (c) => (c.readyState = 'closing')],
      ['engine.io queue', (c) => c.writeBuffer.push({})],
      ['polling', (c) => (c.transport.name = 'polling')],
      ['compression', (c) => (c.transport.perMessageDeflate = { threshold: 1024 } as never)],
      ['ws closing', (c) => (c.transport.socket.readyState = 2)],
      ['ws queue', (c) => c.transport.socket._sender._queue.push({} as never)],
      ['tcp ended', (c) => (c.transport.socket._socket.writable = false)],
      ['unknown internals', (c) => delete (c.transport.socket as Partial<typeof c.transport.socket>)._sender],
    ];
    for (const [name, spoil] of broken) {
      const c = open();
      spoil(c);
      expect([name, directWritable(c)]).toEqual([name, undefined]);
    }
  });

  it('returns no frame for a payload with binary parts (socket.io sends those as several frames)', () => {
    expect(eventFrame('entries', { blob: Buffer.from([1, 2, 3]) })).toBeUndefined();
    expect(eventFrame('entries', { text: 'a' })).toBeInstanceOf(Buffer);
  });
});
