import { io, type Socket } from 'socket.io-client';

/** One entry of an operation's timeline as event-log sends it over socket.io. */
export type TimelineEntry =
  | { seq: number; stored_ms: number; type: 'step_started'; step: string }
  | { seq: number; stored_ms: number; type: 'step_finished'; step: string; status: 'success' | 'failure'; message: string }
  | { seq: number; stored_ms: number; type: 'line'; time_ms: number; level: 'debug' | 'info' | 'warn' | 'error'; step: string; text: string }
  | { seq: number; stored_ms: number; type: 'final'; status: 'success' | 'failure' | 'timeout'; message: string; failed_step: string };

export interface FollowOptions {
  /** http://HOST:PORT of any event-log instance. */
  url: string;
  token: string;
  eventId: string;
  /** Resume after this seq (0 = from the start). */
  afterSeq?: number;
  onEntries(entries: TimelineEntry[]): void;
  /** The subscription was refused (not_found, invalid_argument, ...): no retry. */
  onError?(error: { code: string; message: string }): void;
  /** Stop by itself after the final entry (default true). */
  untilFinal?: boolean;
}

export interface Following {
  /** Last seq received. */
  readonly lastSeq: number;
  /** Resolves with the final entry (or undefined when closed before it). */
  readonly finished: Promise<TimelineEntry | undefined>;
  close(): void;
}

/**
 * Follows one operation live over socket.io and survives disconnects: it re-subscribes
 * after every reconnect (and after 'subscription_ended', e.g. a partition moving) from the
 * last seq it received, so the caller sees each entry once, in order.
 */
export function followOperation(options: FollowOptions): Following {
  let lastSeq = options.afterSeq ?? 0;
  let done = false;
  let resolveFinished!: (e: TimelineEntry | undefined) => void;
  const finished = new Promise<TimelineEntry | undefined>((r) => (resolveFinished = r));
  const socket: Socket = io(options.url, { auth: { token: options.token }, transports: ['websocket'], reconnectionDelay: 200, reconnectionDelayMax: 2000 });
  const close = () => {
    if (done) return;
    done = true;
    socket.close();
    resolveFinished(undefined);
  };
  const subscribe = () => {
    if (done) return;
    socket.emit('subscribe', { event_id: options.eventId, after_seq: lastSeq }, (ack: { ok: boolean; error?: { code: string; message: string } }) => {
      if (ack.ok || done) return;
      if (ack.error?.code === 'unavailable') setTimeout(subscribe, 500);
      // already_exists: a subscription from before is still live (a resubscribe raced it).
      else if (ack.error?.code !== 'already_exists') {
        options.onError?.(ack.error ?? { code: 'unknown', message: 'subscription refused' });
        close();
      }
    });
  };
  socket.on('connect', subscribe);
  socket.on('subscription_ended', (m: { event_id: string }) => {
    if (m.event_id === options.eventId) setTimeout(subscribe, 200);
  });
  socket.on('entries', (m: { event_id: string; entries: TimelineEntry[] }) => {
    if (m.event_id !== options.eventId || done) return;
    const fresh = m.entries.filter((e) => e.seq > lastSeq);
    if (fresh.length === 0) return;
    lastSeq = fresh[fresh.length - 1].seq;
    options.onEntries(fresh);
    const final = fresh.find((e) => e.type === 'final');
    if (final && options.untilFinal !== false) {
      resolveFinished(final);
      done = true;
      socket.close();
    }
  });
  return {
    get lastSeq() {
      return lastSeq;
    },
    finished,
    close,
  };
}
