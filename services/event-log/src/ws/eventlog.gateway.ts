import { Inject } from '@nestjs/common';
import type { OnModuleDestroy } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Principal } from '@wharf/identity';
import type { Logger } from '@wharf/logging';
import { performance } from 'node:perf_hooks';
import type { Server, Socket } from 'socket.io';
import { statusNames, toWire } from '../domain/entry-codec';
import { EVENT_ID } from '../domain/operation-rules';
import { loadBatchMs, roomSpacing, throttleWait } from './emit-batching';
import { broadcastFrame } from './frame-broadcast';
import type { OperationInfo } from '../engine/event-log.engine';
import type { Authenticator } from '../feed/catalog';
import { LOGGER } from '../grpc/eventlog.grpc';
import { EventLogMetrics } from '../metrics';
import type { RuntimeLogCollector } from '../runtime/runtime-log-collector';
import type { EntryRecord } from '../storage/records';
import { OPERATION_LOG, type OperationLog } from '../threads/operation-log';

export const AUTHENTICATOR = Symbol('authenticator');
export const RUNTIME_LOGS = Symbol('runtime-logs');
export const WS_SETTINGS = Symbol('ws-settings');

export interface WsSettings {
  /** Least time between two broadcasts of one operation; entries that come sooner wait for the next (0 = each commit at once)... */
  emitIntervalMs: number;
  /** ... or this much per watcher of the operation on this instance, if that is longer ... */
  emitMsPerMember: number;
  /** ... but never longer than this. */
  maxEmitIntervalMs: number;
  /**
   * Extra spacing when this instance's streaming thread is busy: 0 below 75 % event-loop
   * utilisation, rising to this at 100 % (emit-batching.ts). A saturated thread spends its
   * time per message (a syscall per socket), so fewer, larger messages cut the queueing.
   */
  loadBatchMs: number;
  /** Broadcasts are written to WebSocket connections as one ready frame each (frame-broadcast.ts); false: socket.io's own broadcast. */
  directFrames: boolean;
  /** Entries each room keeps to let a joining subscriber close its gap without a read. */
  roomRecent: number;
  maxSubscriptionsPerSocket: number;
}

type Ack = { ok: true; [k: string]: unknown } | { ok: false; error: { code: string; message: string } };

const fail = (code: string, message: string): Ack => ({ ok: false, error: { code, message } });

/**
 * One broadcast group per operation followed through this instance. It follows the operation
 * once (from the engine on the ingest thread: local partition or the owner's stream) and
 * broadcasts each batch to every joined socket, encoded once. A socket joins only when it has
 * been sent everything up to `emittedSeq`, so from then on it gets exactly the room's
 * broadcasts: no gap, no duplicate.
 */
class Room {
  readonly name: string;
  emittedSeq: number;
  readonly recent: EntryRecord[] = [];
  private pending: EntryRecord[] = [];
  private timer?: NodeJS.Timeout;
  private lastBroadcastAt = -Infinity;
  members = 0;
  closed = false;
  cancel: () => void = () => undefined;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly eventId: string,
    startSeq: number,
    private readonly gateway: EventLogGateway,
  ) {
    this.name = `op:${eventId}`;
    this.emittedSeq = startSeq;
  }

  push(entries: EntryRecord[]): void {
    for (const e of entries) this.pending.push(e);
    if (this.timer) return;
    const wait = throttleWait(roomSpacing(this.members, this.gateway.settings, this.gateway.loadBatchMs), performance.now() - this.lastBroadcastAt);
    if (wait <= 0) this.gateway.flushSoon(this);
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.emittedSeq = batch[batch.length - 1].s;
    this.lastBroadcastAt = performance.now();
    for (const e of batch) this.recent.push(e);
    const keep = this.gateway.settings.roomRecent;
    if (this.recent.length > keep * 2) this.recent.splice(0, this.recent.length - keep);
    this.gateway.broadcast(this, batch);
    for (const w of [...this.waiters]) w();
  }

  /** Resolves when more has been broadcast (or the room closed). */
  advanced(): Promise<void> {
    return new Promise((resolve) => {
      const w = () => (this.waiters.delete(w), resolve());
      this.waiters.add(w);
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.cancel();
    for (const w of [...this.waiters]) w();
  }
}

interface SocketState {
  principal: Principal;
  /** event id -> its room (joined or catching up) */
  subs: Map<string, { room: Room; joined: boolean; cancelled: boolean }>;
  logs: Map<string, () => void>;
}

/**
 * socket.io API (path /socket.io). Connect with `auth: { token }` (or an Authorization: Bearer
 * header): the same tokens and tenant rights as the REST API.
 *  - emit('subscribe', { event_id, after_seq }, ack) -> ack { ok, operation } then 'entries'
 *    events { event_id, entries: WireEntry[] } with seq after_seq+1, after_seq+2, ... (catch-up,
 *    then live). Resume after a reconnect with after_seq = the last seq received.
 *  - 'subscription_ended' { event_id, reason }: the stream stopped (partition moved, owner
 *    down); subscribe again from the last seq received.
 *  - emit('unsubscribe', { event_id })
 *  - emit('logs.subscribe', { component_id, tail }, ack) -> 'logs' { component_id, lines:
 *    [{ replica, time_ms, stream, text }] }: last `tail` lines of all replicas, then live.
 *  - emit('logs.unsubscribe', { component_id })
 * Operations and components of tenants the caller cannot read answer not_found (no leak).
 */
@WebSocketGateway({ transports: ['websocket', 'polling'], cors: { origin: true } })
export class EventLogGateway implements OnGatewayInit, OnGatewayDisconnect, OnModuleDestroy {
  @WebSocketServer() server!: Server;
  private readonly rooms = new Map<string, Room>();
  /**
   * Rooms to broadcast at the end of this event-loop turn. Everything that arrives in one turn
   * (after a stall, many commits at once) goes out as one message per room, not one per commit.
   */
  private readonly due = new Set<Room>();
  private flushScheduled = false;
  /** Current extra spacing from load (see WsSettings.loadBatchMs). */
  loadBatchMs = 0;
  private loadTimer?: NodeJS.Timeout;

  constructor(
    @Inject(OPERATION_LOG) private readonly operations: OperationLog,
    private readonly metrics: EventLogMetrics,
    @Inject(AUTHENTICATOR) private readonly auth: Authenticator,
    @Inject(RUNTIME_LOGS) private readonly runtimeLogs: RuntimeLogCollector,
    @Inject(WS_SETTINGS) readonly settings: WsSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  afterInit(server: Server): void {
    let last = performance.eventLoopUtilization();
    this.loadTimer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      const elu = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      this.loadBatchMs = loadBatchMs(elu, this.settings.loadBatchMs);
      this.metrics.streamingLoad.set(elu);
      this.metrics.loadBatch.set(this.loadBatchMs);
    }, 250);
    this.loadTimer.unref();
    server.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token ?? socket.handshake.headers.authorization;
      const principal = typeof token === 'string' ? this.auth.authenticate(token) : undefined;
      if (!principal) return next(new Error('unauthenticated: pass a valid token in auth.token'));
      const state: SocketState = { principal, subs: new Map(), logs: new Map() };
      socket.data.state = state;
      next();
    });
  }

  onModuleDestroy(): void {
    if (this.loadTimer) clearInterval(this.loadTimer);
    for (const room of this.rooms.values()) room.close();
    this.rooms.clear();
  }

  handleDisconnect(socket: Socket): void {
    const state = socket.data.state as SocketState | undefined;
    if (!state) return;
    for (const eventId of [...state.subs.keys()]) this.unsubscribeOne(socket, state, eventId);
    for (const stop of state.logs.values()) stop();
    state.logs.clear();
  }

  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<Ack> {
    const state = socket.data.state as SocketState;
    const b = (body ?? {}) as { event_id?: unknown; after_seq?: unknown };
    if (typeof b.event_id !== 'string' || !EVENT_ID.test(b.event_id)) return fail('invalid_argument', `event_id: must match ${EVENT_ID.source}`);
    const afterSeq = b.after_seq === undefined ? 0 : Number(b.after_seq);
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) return fail('invalid_argument', 'after_seq: must be a non-negative integer (the last seq received)');
    const eventId = b.event_id;
    if (state.subs.has(eventId)) return fail('already_subscribed', `already subscribed to ${eventId}; unsubscribe first`);
    if (state.subs.size >= this.settings.maxSubscriptionsPerSocket)
      return fail('too_many_subscriptions', `at most ${this.settings.maxSubscriptionsPerSocket} subscriptions per connection`);
    let info: OperationInfo | undefined;
    try {
      info = await this.operations.info(eventId);
    } catch (err) {
      return fail('unavailable', (err as Error).message);
    }
    if (!info || !this.auth.canRead(state.principal, info.tenantId)) return fail('not_found', `operation ${eventId} not found`);
    if (afterSeq > info.lastSeq) return fail('out_of_range', `after_seq ${afterSeq} is beyond the last entry (${info.lastSeq})`);
    if (!socket.connected || state.subs.has(eventId)) return fail('already_subscribed', `already subscribed to ${eventId}`);
    const room = this.room(eventId, afterSeq);
    const sub = { room, joined: false, cancelled: false };
    state.subs.set(eventId, sub);
    room.members++;
    this.metrics.subscribers.inc();
    void this.catchUp(socket, sub, afterSeq);
    return { ok: true, operation: operationView(info) };
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Ack {
    const state = socket.data.state as SocketState;
    const eventId = (body as { event_id?: unknown } | undefined)?.event_id;
    if (typeof eventId !== 'string' || !state.subs.has(eventId)) return fail('not_subscribed', 'not subscribed to that event_id');
    this.unsubscribeOne(socket, state, eventId);
    return { ok: true };
  }

  @SubscribeMessage('logs.subscribe')
  logsSubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Ack {
    const state = socket.data.state as SocketState;
    const b = (body ?? {}) as { component_id?: unknown; tail?: unknown };
    if (typeof b.component_id !== 'string' || !EVENT_ID.test(b.component_id)) return fail('invalid_argument', `component_id: must match ${EVENT_ID.source}`);
    const tail = b.tail === undefined ? 100 : Number(b.tail);
    if (!Number.isSafeInteger(tail) || tail < 0 || tail > 10_000) return fail('invalid_argument', 'tail: must be an integer 0-10000');
    const componentId = b.component_id;
    const tenant = this.componentTenant(componentId);
    if (!tenant || !this.auth.canRead(state.principal, tenant)) return fail('not_found', `component ${componentId} not found`);
    if (state.logs.has(componentId)) return fail('already_subscribed', `already following logs of ${componentId}`);
    const stop = this.runtimeLogs.follow(
      componentId,
      tail,
      (lines) =>
        socket.emit('logs', {
          component_id: componentId,
          lines: lines.map((l) => ({ replica: l.replica, time_ms: l.timeMs, stream: l.stream, text: l.text })),
        }),
      (reason) => {
        state.logs.delete(componentId);
        socket.emit('logs_ended', { component_id: componentId, reason });
      },
    );
    state.logs.set(componentId, stop);
    return { ok: true };
  }

  @SubscribeMessage('logs.unsubscribe')
  logsUnsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Ack {
    const state = socket.data.state as SocketState;
    const id = (body as { component_id?: unknown } | undefined)?.component_id;
    const stop = typeof id === 'string' ? state.logs.get(id) : undefined;
    if (!stop) return fail('not_subscribed', 'not following that component');
    stop();
    state.logs.delete(id as string);
    return { ok: true };
  }

  /** Resolved by main.ts: component -> tenant (from the feed). */
  componentTenant: (componentId: string) => string | undefined = () => undefined;

  flushSoon(room: Room): void {
    this.due.add(room);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const rooms = [...this.due];
      this.due.clear();
      for (const r of rooms) if (!r.closed) r.flush();
    });
  }

  broadcast(room: Room, batch: EntryRecord[]): void {
    this.metrics.emitted.inc(batch.length);
    this.metrics.broadcastDelay.observe((Date.now() - batch[0].t) / 1000);
    const payload = { event_id: room.eventId, entries: batch.map(toWire) };
    if (this.settings.directFrames) broadcastFrame(this.server, room.name, 'entries', payload);
    else this.server.to(room.name).emit('entries', payload);
  }

  private room(eventId: string, startSeq: number): Room {
    let room = this.rooms.get(eventId);
    if (room && !room.closed) return room;
    room = new Room(eventId, startSeq, this);
    const r = room;
    this.rooms.set(eventId, r);
    r.cancel = this.operations.follow(eventId, startSeq, {
      entries: (entries) => r.push(entries),
      end: (reason) => this.endRoom(r, reason),
    });
    return r;
  }

  private endRoom(room: Room, reason: string): void {
    if (room.closed) return;
    room.flush();
    room.close();
    if (this.rooms.get(room.eventId) === room) this.rooms.delete(room.eventId);
    // Joined sockets hear it from the room; those still catching up notice room.closed.
    this.server.to(room.name).emit('subscription_ended', { event_id: room.eventId, reason });
    this.server.in(room.name).socketsLeave(room.name);
    for (const s of this.server.sockets.sockets.values()) {
      const state = s.data.state as SocketState | undefined;
      const sub = state?.subs.get(room.eventId);
      if (sub?.room === room) {
        state!.subs.delete(room.eventId);
        this.metrics.subscribers.dec();
      }
    }
  }

  /** Sends entries (afterSeq, room.emittedSeq] to one socket, then joins it to the room. */
  private async catchUp(socket: Socket, sub: { room: Room; joined: boolean; cancelled: boolean }, afterSeq: number): Promise<void> {
    const room = sub.room;
    const started = Date.now();
    let cursor = afterSeq;
    try {
      for (;;) {
        if (sub.cancelled) return;
        if (room.closed) throw new Error('stream ended');
        if (cursor > room.emittedSeq) {
          // The room has not broadcast up to where this client is: wait for it.
          await room.advanced();
          continue;
        }
        const recentFirst = room.recent.length ? room.recent[0].s : room.emittedSeq + 1;
        if (cursor + 1 >= recentFirst) {
          // Synchronous to the join: the room cannot broadcast in between.
          const rest = room.recent.slice(Math.max(0, cursor + 1 - recentFirst));
          if (rest.length) socket.emit('entries', { event_id: room.eventId, entries: rest.map(toWire) });
          void socket.join(room.name); // the in-memory adapter joins synchronously
          sub.joined = true;
          this.metrics.catchUp.observe((Date.now() - started) / 1000);
          return;
        }
        const { entries } = await this.operations.read(room.eventId, cursor, 1000);
        if (sub.cancelled) return;
        const page = entries.filter((e) => e.s > cursor && e.s <= room.emittedSeq);
        if (page.length === 0) {
          // Gone by retention: continue from what still exists.
          cursor = Math.min(room.emittedSeq, entries.length ? entries[0].s - 1 : room.emittedSeq);
          if (entries.length === 0) cursor = room.emittedSeq;
          continue;
        }
        socket.emit('entries', { event_id: room.eventId, entries: page.map(toWire) });
        cursor = page[page.length - 1].s;
      }
    } catch (err) {
      this.logger.debug({ err, event_id: room.eventId }, 'catch-up ended');
      const state = socket.data.state as SocketState | undefined;
      if (state?.subs.get(room.eventId) === sub) this.unsubscribeOne(socket, state, room.eventId);
      socket.emit('subscription_ended', { event_id: room.eventId, reason: (err as Error).message });
    }
  }

  private unsubscribeOne(socket: Socket, state: SocketState, eventId: string): void {
    const sub = state.subs.get(eventId);
    if (!sub) return;
    state.subs.delete(eventId);
    sub.cancelled = true;
    this.metrics.subscribers.dec();
    if (sub.joined) void socket.leave(sub.room.name);
    sub.room.members--;
    if (sub.room.members <= 0 && !sub.room.closed) {
      sub.room.close();
      if (this.rooms.get(eventId) === sub.room) this.rooms.delete(eventId);
    }
  }
}

function operationView(i: OperationInfo) {
  return {
    event_id: i.eventId,
    target: i.target,
    status: statusNames[i.status] ?? 'unknown',
    message: i.message || null,
    failed_step: i.failedStep || null,
    last_seq: i.lastSeq,
  };
}
