import type { Server, Socket } from 'socket.io';
import { Encoder, PacketType } from 'socket.io-parser';
import WebSocket from 'ws';

/*
 * Broadcasting one event to many sockets, the frame written once per socket.
 *
 * socket.io already encodes a broadcast once (even into a ready WebSocket frame), but hands it
 * to every socket through engine.io's per-packet machinery: a packet object, the write buffer,
 * four events, the transport, ws's corked two-part write and two callbacks a socket. At 50,000
 * socket writes/s that machinery cost event-log about 0.15-0.2 of a core (bench, paired runs),
 * and the socket.io thread's queueing grew with it. Here the frame is one Buffer and each
 * socket gets one write of it to its TCP socket.
 *
 * That write goes under engine.io, so it is used only where it cannot overtake anything: an
 * open connection whose transport is a WebSocket without compression, with nothing waiting in
 * engine.io's or ws's queues (what they already sent is in the TCP socket's buffer, in order,
 * before this). Any other socket (long-polling, upgrading, closing, something queued, or
 * internals that do not look as expected) gets the usual socket.emit, so a change in those
 * libraries costs speed, not correctness.
 */

const encoder = new Encoder();
const { Sender } = WebSocket as unknown as {
  Sender: { frame(data: Buffer, options: { readOnly: boolean; mask: boolean; rsv1: boolean; opcode: number; fin: boolean }): Buffer[] };
};

/** The parts of engine.io's and ws's objects the direct write depends on (checked each time). */
interface EngineConnection {
  readyState?: unknown;
  writeBuffer?: unknown;
  transport?: {
    name?: unknown;
    perMessageDeflate?: unknown;
    socket?: {
      readyState?: unknown;
      _sender?: { _queue?: unknown };
      _socket?: { writable?: unknown; write?: unknown };
    };
  };
}

/** A socket.io event as one unmasked WebSocket text frame, or undefined if it has binary parts (socket.io sends those as several frames). */
export function eventFrame(event: string, payload: unknown): Buffer | undefined {
  const encoded = encoder.encode({ type: PacketType.EVENT, nsp: '/', data: [event, payload] });
  if (encoded.length !== 1 || typeof encoded[0] !== 'string') return undefined;
  // "4": engine.io's message packet, which carries the socket.io packet.
  return Buffer.concat(Sender.frame(Buffer.from(`4${encoded[0]}`), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true }));
}

/** The TCP socket a frame may be written to directly, or undefined if the socket must go through engine.io. */
export function directWritable(connection: unknown): { write(frame: Buffer): unknown } | undefined {
  const c = connection as EngineConnection;
  const t = c.transport;
  const ws = t?.socket;
  const tcp = ws?._socket;
  const queue = ws?._sender?._queue;
  if (c.readyState !== 'open' || !Array.isArray(c.writeBuffer) || c.writeBuffer.length > 0) return undefined;
  if (t?.name !== 'websocket' || t.perMessageDeflate) return undefined;
  if (ws?.readyState !== 1 || !Array.isArray(queue) || queue.length > 0) return undefined;
  if (tcp?.writable !== true || typeof tcp.write !== 'function') return undefined;
  return tcp as { write(frame: Buffer): unknown };
}

/** Sends `event` with `payload` to every socket in `room` of the default namespace. */
export function broadcastFrame(server: Server, room: string, event: string, payload: unknown): void {
  const ids = server.sockets.adapter.rooms.get(room);
  if (!ids || ids.size === 0) return;
  const frame = eventFrame(event, payload);
  if (!frame) {
    server.to(room).emit(event, payload);
    return;
  }
  for (const id of ids) {
    const socket: Socket | undefined = server.sockets.sockets.get(id);
    if (!socket) continue;
    const tcp = directWritable(socket.conn);
    if (tcp) tcp.write(frame);
    else socket.emit(event, payload);
  }
}
