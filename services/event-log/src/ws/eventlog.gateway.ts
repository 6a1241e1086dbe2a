import { Inject } from '@nestjs/common';
import type { OnModuleDestroy } from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, ResourceExhaustedError } from '@wharf/errors';
import type { Principal } from '@wharf/identity';
import type { Logger } from '@wharf/logging';
import { performance } from 'node:perf_hooks';
import type { Server, Socket } from 'socket.io';
import type { Authenticator } from '../adapters/feed/authenticator';
import type { RuntimeLogCollector } from '../adapters/runtime-logs/runtime-log-collector';
import type { OperationInfo } from '../domain/operation-info';
import type { EntryRecord } from '../domain/records';
import { statusNames, toWire } from '../domain/wire-entry';
import { EventLogMetrics } from '../metrics';
import type { OperationLog } from '../threads/operation-log';
import { AUTHENTICATOR, COMPONENT_TENANTS, LOGGER, OPERATION_LOG, RUNTIME_LOGS, WS_SETTINGS } from '../tokens';
import { loadBatchMs, type SpacingSettings } from './emit-batching';
import { broadcastFrame } from './frame-broadcast';
import { Room, type RoomHost } from './room';
import { LOGS_SUBSCRIBE, LOGS_UNSUBSCRIBE, parsePayload, SUBSCRIBE, UNSUBSCRIBE, unknownEvent, WS_EVENTS } from './ws-payloads';
import { errorReply, reply, type AckFn, type Reply } from './ws-replies';

export interface WsSettings extends SpacingSettings {
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

/** component id -> its tenant (from the feed). */
export type ComponentTenants = (componentId: string) => string | undefined;

const known: ReadonlySet<string> = new Set(WS_EVENTS);

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
 * Every event is answered: its ack ({ ok: true, ... } or { ok: false, error: { code, message,
 * field?, reason? } }, codes of @wharf/errors), or, when the client asked for no ack and it
 * failed, an 'error' event { ok: false, event, error }. Payloads are checked field by field;
 * an unknown event name is invalid_argument listing the known ones. Operations and components
 * of tenants the caller cannot read answer not_found (no leak).
 */
@WebSocketGateway({ transports: ['websocket', 'polling'], cors: { origin: true } })
export class EventLogGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy, RoomHost {
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
    @Inject(COMPONENT_TENANTS) private readonly componentTenant: ComponentTenants,
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

  handleConnection(socket: Socket): void {
    // The known events have their handlers; anything else would go unanswered.
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (typeof event === 'string' && known.has(event)) return;
      const last = args[args.length - 1];
      reply(socket, String(event), typeof last === 'function' ? (last as AckFn) : undefined, errorReply(unknownEvent(event)));
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
  async onSubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack?: AckFn): Promise<void> {
    reply(socket, 'subscribe', ack, await this.answer(() => this.subscribe(socket, body)));
  }

  @SubscribeMessage('unsubscribe')
  async onUnsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack?: AckFn): Promise<void> {
    reply(socket, 'unsubscribe', ack, await this.answer(() => this.unsubscribe(socket, body)));
  }

  @SubscribeMessage('logs.subscribe')
  async onLogsSubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack?: AckFn): Promise<void> {
    reply(socket, 'logs.subscribe', ack, await this.answer(() => this.logsSubscribe(socket, body)));
  }

  @SubscribeMessage('logs.unsubscribe')
  async onLogsUnsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack?: AckFn): Promise<void> {
    reply(socket, 'logs.unsubscribe', ack, await this.answer(() => this.logsUnsubscribe(socket, body)));
  }

  /** Runs a handler; whatever it throws becomes the error reply (bugs are logged and answered as internal). */
  private async answer(run: () => Reply | Promise<Reply>): Promise<Reply> {
    try {
      return await run();
    } catch (err) {
      const r = errorReply(err);
      if (!r.ok && r.error.code === 'internal') this.logger.error({ err }, 'socket.io handler failed');
      return r;
    }
  }

  private async subscribe(socket: Socket, body: unknown): Promise<Reply> {
    const state = socket.data.state as SocketState;
    const { event_id: eventId, after_seq: afterSeq = 0 } = parsePayload(SUBSCRIBE, body);
    if (state.subs.has(eventId)) throw alreadySubscribed(`already subscribed to ${eventId}; unsubscribe first`);
    if (state.subs.size >= this.settings.maxSubscriptionsPerSocket)
      throw new ResourceExhaustedError(`at most ${this.settings.maxSubscriptionsPerSocket} subscriptions per connection`, { reason: 'too_many_subscriptions' });
    const info = await this.operations.info(eventId);
    if (!info || !this.auth.canRead(state.principal, info.tenantId)) throw new NotFoundError(`operation ${eventId} not found`);
    if (afterSeq > info.lastSeq)
      throw new InvalidArgumentError(`after_seq: ${afterSeq} is beyond the last entry (${info.lastSeq})`, { field: 'after_seq', reason: 'out_of_range' });
    if (!socket.connected || state.subs.has(eventId)) throw alreadySubscribed(`already subscribed to ${eventId}`);
    const room = this.room(eventId, afterSeq);
    const sub = { room, joined: false, cancelled: false };
    state.subs.set(eventId, sub);
    room.members++;
    this.metrics.subscribers.inc();
    void this.catchUp(socket, sub, afterSeq);
    return { ok: true, operation: operationView(info) };
  }

  private unsubscribe(socket: Socket, body: unknown): Reply {
    const state = socket.data.state as SocketState;
    const { event_id: eventId } = parsePayload(UNSUBSCRIBE, body);
    if (!state.subs.has(eventId)) throw new NotFoundError(`not subscribed to ${eventId}`, { reason: 'not_subscribed' });
    this.unsubscribeOne(socket, state, eventId);
    return { ok: true };
  }

  private logsSubscribe(socket: Socket, body: unknown): Reply {
    const state = socket.data.state as SocketState;
    const { component_id: componentId, tail = 100 } = parsePayload(LOGS_SUBSCRIBE, body);
    const tenant = this.componentTenant(componentId);
    if (!tenant || !this.auth.canRead(state.principal, tenant)) throw new NotFoundError(`component ${componentId} not found`);
    if (state.logs.has(componentId)) throw alreadySubscribed(`already following logs of ${componentId}`);
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

  private logsUnsubscribe(socket: Socket, body: unknown): Reply {
    const state = socket.data.state as SocketState;
    const { component_id: componentId } = parsePayload(LOGS_UNSUBSCRIBE, body);
    const stop = state.logs.get(componentId);
    if (!stop) throw new NotFoundError(`not following logs of ${componentId}`, { reason: 'not_subscribed' });
    stop();
    state.logs.delete(componentId);
    return { ok: true };
  }

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

function alreadySubscribed(message: string): AlreadyExistsError {
  return new AlreadyExistsError(message, { reason: 'already_subscribed' });
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
