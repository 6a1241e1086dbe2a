import { followOperation, type Following } from '@wharf/event-log-client';
import type { Logger } from '@wharf/logging';
import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { io as connectUpstream, type Socket as UpstreamSocket } from 'socket.io-client';
import type { DataCentersService } from '../domain/data-centers.service';
import type { SessionsService } from '../domain/sessions.service';
import { SESSION_COOKIE } from '../http/auth';

type Ack = (answer: { ok: true } | { ok: false; error: { code: string; message: string } }) => void;

const MAX_SUBSCRIPTIONS = 32;
const ID = /^[A-Za-z0-9._:-]{1,200}$/;

interface SocketState {
  user: string;
  follows: Map<string, Following>;
  logs: Map<string, UpstreamSocket>;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/**
 * The console's socket.io (path /socket.io): a browser follows operations and runtime logs of
 * any data center with its session; the console follows them upstream, through each data
 * center's own socket.io entry with the user's token there (which never reaches the browser),
 * and forwards what comes, tagged with the data center. A relay, unlike the data center's
 * proxy, because the credentials differ on each side. Resume is the browser's: after a
 * reconnect it subscribes again from the last seq it has, and the console follows from there.
 *  - emit('subscribe', { dc, event_id, after_seq }, ack) -> 'entries' { dc, event_id, entries }
 *    (catch-up then live, until the final entry); 'subscription_error' { dc, event_id, error }
 *  - emit('unsubscribe', { dc, event_id })
 *  - emit('logs.subscribe', { dc, component_id, tail }, ack) -> 'logs' { dc, component_id, lines }
 *  - emit('logs.unsubscribe', { dc, component_id })
 */
export class TimelineRelay {
  private io?: Server;

  constructor(
    private readonly sessions: SessionsService,
    private readonly dataCenters: DataCentersService,
    private readonly logger: Logger,
  ) {}

  attach(server: HttpServer): void {
    const io = new Server(server, { path: '/socket.io', serveClient: false, transports: ['websocket', 'polling'], maxHttpBufferSize: 64 * 1024 });
    this.io = io;
    io.use((socket, next) => {
      const h = socket.handshake;
      // A WebSocket has no CORS: refuse a cookie-carrying handshake from a page of another origin.
      const token = (h.auth as { token?: unknown } | undefined)?.token;
      const viaCookie = typeof token !== 'string';
      if (viaCookie && h.headers.origin && h.headers.origin !== `${h.secure ? 'https' : 'http'}://${h.headers.host}`) {
        return next(new Error('forbidden: another origin'));
      }
      this.sessions
        .resolve(viaCookie ? cookieValue(h.headers.cookie, SESSION_COOKIE) : (token as string))
        .then((session) => {
          const state: SocketState = { user: session.user, follows: new Map(), logs: new Map() };
          socket.data.state = state;
          next();
        })
        .catch((err: Error) => next(new Error(`unauthenticated: ${err.message}`)));
    });
    io.on('connection', (socket) => this.serve(socket));
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.io ? void this.io.close(() => resolve()) : resolve()));
  }

  private serve(socket: Socket): void {
    const state = socket.data.state as SocketState;
    const fail = (ack: unknown, code: string, message: string) => typeof ack === 'function' && (ack as Ack)({ ok: false, error: { code, message } });
    const upstreamOf = (dcRef: unknown) => {
      if (typeof dcRef !== 'string' || !ID.test(dcRef)) throw Object.assign(new Error('dc: must be a data center id or name'), { code: 'invalid_argument' });
      const dc = this.dataCenters.find(dcRef);
      const token = this.dataCenters.tokenFor(dc, state.user);
      if (!token) throw Object.assign(new Error(`you have no token for data center ${dc.name}`), { code: 'failed_precondition' });
      return { dc, token };
    };

    socket.on('subscribe', (msg: { dc?: unknown; event_id?: unknown; after_seq?: unknown }, ack: unknown) => {
      try {
        const { dc, token } = upstreamOf(msg?.dc);
        const eventId = msg?.event_id;
        const afterSeq = msg?.after_seq ?? 0;
        if (typeof eventId !== 'string' || !ID.test(eventId)) return fail(ack, 'invalid_argument', 'event_id: must be an operation event id');
        if (typeof afterSeq !== 'number' || !Number.isSafeInteger(afterSeq) || afterSeq < 0)
          return fail(ack, 'invalid_argument', 'after_seq: must be an integer >= 0');
        const key = `${dc.id}/${eventId}`;
        state.follows.get(key)?.close();
        if (state.follows.size >= MAX_SUBSCRIPTIONS) return fail(ack, 'resource_exhausted', `at most ${MAX_SUBSCRIPTIONS} operations per connection`);
        const following = followOperation({
          url: dc.apiUrl,
          token,
          eventId,
          afterSeq,
          onEntries: (entries) => socket.emit('entries', { dc: dc.id, event_id: eventId, entries }),
          onError: (error) => socket.emit('subscription_error', { dc: dc.id, event_id: eventId, error }),
        });
        state.follows.set(key, following);
        void following.finished.then(() => state.follows.get(key) === following && state.follows.delete(key));
        if (typeof ack === 'function') (ack as Ack)({ ok: true });
      } catch (err) {
        fail(ack, (err as { code?: string }).code ?? 'not_found', (err as Error).message);
      }
    });

    socket.on('unsubscribe', (msg: { dc?: unknown; event_id?: unknown }) => {
      for (const [key, f] of state.follows) {
        if (!key.endsWith(`/${String(msg?.event_id)}`)) continue;
        f.close();
        state.follows.delete(key);
      }
    });

    socket.on('logs.subscribe', (msg: { dc?: unknown; component_id?: unknown; tail?: unknown }, ack: unknown) => {
      try {
        const { dc, token } = upstreamOf(msg?.dc);
        const componentId = msg?.component_id;
        const tail = msg?.tail ?? 100;
        if (typeof componentId !== 'string' || !ID.test(componentId)) return fail(ack, 'invalid_argument', 'component_id: must be a component id');
        if (typeof tail !== 'number' || !Number.isSafeInteger(tail) || tail < 0 || tail > 10000) return fail(ack, 'invalid_argument', 'tail: must be 0-10000');
        const key = `${dc.id}/${componentId}`;
        state.logs.get(key)?.close();
        if (state.logs.size >= MAX_SUBSCRIPTIONS) return fail(ack, 'resource_exhausted', `at most ${MAX_SUBSCRIPTIONS} log streams per connection`);
        const upstream = connectUpstream(dc.apiUrl, { auth: { token }, transports: ['websocket'], reconnectionDelay: 300, reconnectionDelayMax: 5000 });
        let first = true;
        let answered = false;
        upstream.on('connect', () => {
          // After a reconnect only what is new: the tail was already sent.
          upstream.emit(
            'logs.subscribe',
            { component_id: componentId, tail: first ? tail : 0 },
            (answer: { ok: boolean; error?: { code: string; message: string } }) => {
              if (!answered && typeof ack === 'function')
                (ack as Ack)(answer.ok ? { ok: true } : { ok: false, error: answer.error ?? { code: 'unknown', message: 'refused' } });
              answered = true;
              if (!answer.ok) {
                upstream.close();
                state.logs.delete(key);
              }
            },
          );
          first = false;
        });
        upstream.on('connect_error', (err) => {
          if (!answered) fail(ack, 'unavailable', `${dc.name}: ${err.message}`);
          answered = true;
        });
        upstream.on('logs', (m: { component_id: string; lines: unknown[] }) =>
          socket.emit('logs', { dc: dc.id, component_id: m.component_id, lines: m.lines }),
        );
        state.logs.set(key, upstream);
      } catch (err) {
        fail(ack, (err as { code?: string }).code ?? 'not_found', (err as Error).message);
      }
    });

    socket.on('logs.unsubscribe', (msg: { dc?: unknown; component_id?: unknown }) => {
      for (const [key, up] of state.logs) {
        if (!key.endsWith(`/${String(msg?.component_id)}`)) continue;
        up.close();
        state.logs.delete(key);
      }
    });

    socket.on('disconnect', () => {
      for (const f of state.follows.values()) f.close();
      for (const up of state.logs.values()) up.close();
      state.follows.clear();
      state.logs.clear();
      this.logger.debug({ user: state.user }, 'console socket closed');
    });
  }
}
