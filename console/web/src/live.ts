import { io, type Socket } from 'socket.io-client';

/** One entry of an operation's timeline (event-log's wire form, relayed by the console). */
export type Entry =
  | { seq: number; stored_ms: number; type: 'step_started'; step: string }
  | { seq: number; stored_ms: number; type: 'step_finished'; step: string; status: 'success' | 'failure'; message: string }
  | { seq: number; stored_ms: number; type: 'line'; time_ms: number; level: string; step: string; text: string }
  | { seq: number; stored_ms: number; type: 'final'; status: 'success' | 'failure' | 'timeout'; message: string; failed_step: string };

export interface RuntimeLine {
  replica: string;
  time_ms: number;
  stream: string;
  text: string;
}

let socket: Socket | undefined;

/** The console's socket.io (same origin: the session cookie authenticates it). */
function shared(): Socket {
  socket ??= io({ path: '/socket.io', transports: ['websocket'], reconnectionDelay: 300, reconnectionDelayMax: 3000 });
  return socket;
}

/**
 * Follows one operation: catch-up, then live, until its final entry. After a reconnect it
 * subscribes again from the last seq it has, so no line is lost or shown twice.
 */
export function followOperation(
  dc: string,
  eventId: string,
  afterSeq: number,
  onEntries: (entries: Entry[]) => void,
  onError: (message: string) => void,
): () => void {
  const s = shared();
  let last = afterSeq;
  let closed = false;
  const subscribe = () =>
    s.emit('subscribe', { dc, event_id: eventId, after_seq: last }, (ack: { ok: boolean; error?: { message: string } }) => {
      if (!ack.ok) onError(ack.error?.message ?? 'refused');
    });
  const onEntriesMsg = (m: { dc: string; event_id: string; entries: Entry[] }) => {
    if (closed || m.event_id !== eventId || m.dc !== dc) return;
    const fresh = m.entries.filter((e) => e.seq > last);
    if (!fresh.length) return;
    last = fresh[fresh.length - 1].seq;
    onEntries(fresh);
  };
  const onSubError = (m: { dc: string; event_id: string; error: { message: string } }) => m.event_id === eventId && onError(m.error.message);
  s.on('connect', subscribe);
  s.on('entries', onEntriesMsg);
  s.on('subscription_error', onSubError);
  if (s.connected) subscribe();
  return () => {
    closed = true;
    s.off('connect', subscribe);
    s.off('entries', onEntriesMsg);
    s.off('subscription_error', onSubError);
    s.emit('unsubscribe', { dc, event_id: eventId });
  };
}

/** Runtime logs of all replicas of a component: the tail, then live. */
export function followLogs(
  dc: string,
  componentId: string,
  tail: number,
  onLines: (lines: RuntimeLine[]) => void,
  onError: (message: string) => void,
): () => void {
  const s = shared();
  let first = true;
  const subscribe = () => {
    s.emit('logs.subscribe', { dc, component_id: componentId, tail: first ? tail : 0 }, (ack: { ok: boolean; error?: { message: string } }) => {
      if (!ack.ok) onError(ack.error?.message ?? 'refused');
    });
    first = false;
  };
  const onLogs = (m: { dc: string; component_id: string; lines: RuntimeLine[] }) => m.dc === dc && m.component_id === componentId && onLines(m.lines);
  s.on('connect', subscribe);
  s.on('logs', onLogs);
  if (s.connected) subscribe();
  return () => {
    s.off('connect', subscribe);
    s.off('logs', onLogs);
    s.emit('logs.unsubscribe', { dc, component_id: componentId });
  };
}
