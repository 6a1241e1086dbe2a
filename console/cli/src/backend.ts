import { followOperation, type TimelineEntry } from '@wharf/event-log-client';
import { io, type Socket } from 'socket.io-client';
import type { Profile } from './config-store';
import { CliError, EXIT } from './exit-codes';
import { callJson } from './http-client';

export interface Follow {
  readonly lastSeq: number;
  /** The final entry, or undefined when closed before it. */
  readonly finished: Promise<TimelineEntry | undefined>;
  close(): void;
}

export interface RuntimeLine {
  replica: string;
  time_ms: number;
  stream: string;
  text: string;
}

/**
 * Where the CLI's calls go: straight to one data center (its token), or through a console (its
 * session), which reaches the chosen data center with the user's own token there and relays
 * timelines. Commands are written once against this.
 */
export interface Backend {
  readonly profile: Profile;
  /** A data center REST call, path under /api/v1 (headers: e.g. If-Match). */
  dc(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<unknown>;
  /** A console REST call (console profiles only). */
  console(method: string, path: string, body?: unknown): Promise<unknown>;
  follow(eventId: string, afterSeq: number, onEntries: (entries: TimelineEntry[]) => void, onError: (e: { code: string; message: string }) => void): Follow;
  logs(componentId: string, tail: number, onLines: (lines: RuntimeLine[]) => void, onError: (e: { code: string; message: string }) => void): { close(): void };
}

export function backendFor(profile: Profile, dcOverride?: string): Backend {
  return profile.kind === 'dc' ? new DirectBackend(profile) : new ConsoleBackend(profile, dcOverride ?? profile.dc);
}

class DirectBackend implements Backend {
  constructor(readonly profile: Profile) {}

  dc(method: string, path: string, body?: unknown, headers?: Record<string, string>) {
    return callJson(this.profile.url, this.profile.token, method, `/api/v1${path}`, body, undefined, headers);
  }

  console(): Promise<unknown> {
    throw new CliError('this needs a console: wharf login <console url> --user <name>', EXIT.usage);
  }

  follow(eventId: string, afterSeq: number, onEntries: (entries: TimelineEntry[]) => void, onError: (e: { code: string; message: string }) => void): Follow {
    return followOperation({ url: this.profile.url, token: this.profile.token, eventId, afterSeq, onEntries, onError });
  }

  logs(componentId: string, tail: number, onLines: (lines: RuntimeLine[]) => void, onError: (e: { code: string; message: string }) => void) {
    return subscribeLogs(
      io(this.profile.url, { auth: { token: this.profile.token }, transports: ['websocket'] }),
      { component_id: componentId },
      tail,
      onLines,
      onError,
    );
  }
}

class ConsoleBackend implements Backend {
  constructor(
    readonly profile: Profile,
    private readonly dcName: string | undefined,
  ) {}

  private get dcRef(): string {
    if (!this.dcName) throw new CliError('which data center? pass --dc <name> (wharf dc list shows them) or log in with --dc', EXIT.usage);
    return this.dcName;
  }

  dc(method: string, path: string, body?: unknown, headers?: Record<string, string>) {
    return callJson(this.profile.url, this.profile.token, method, `/api/v1/dcs/${encodeURIComponent(this.dcRef)}/api/v1${path}`, body, undefined, headers);
  }

  console(method: string, path: string, body?: unknown) {
    return callJson(this.profile.url, this.profile.token, method, `/api/v1${path}`, body);
  }

  follow(eventId: string, afterSeq: number, onEntries: (entries: TimelineEntry[]) => void, onError: (e: { code: string; message: string }) => void): Follow {
    const dc = this.dcRef;
    let lastSeq = afterSeq;
    let done = false;
    let resolve!: (e: TimelineEntry | undefined) => void;
    const finished = new Promise<TimelineEntry | undefined>((r) => (resolve = r));
    const socket = io(this.profile.url, { auth: { token: this.profile.token }, transports: ['websocket'], reconnectionDelay: 200, reconnectionDelayMax: 2000 });
    const close = () => {
      if (done) return;
      done = true;
      socket.close();
      resolve(undefined);
    };
    // After every (re)connect, from the last seq received: no line lost or repeated.
    socket.on('connect', () =>
      socket.emit('subscribe', { dc, event_id: eventId, after_seq: lastSeq }, (ack: { ok: boolean; error?: { code: string; message: string } }) => {
        if (!ack.ok) {
          onError(ack.error ?? { code: 'unknown', message: 'refused' });
          close();
        }
      }),
    );
    socket.on('connect_error', (err) => {
      if (/unauthenticated/.test(err.message)) {
        onError({ code: 'unauthenticated', message: err.message });
        close();
      }
    });
    socket.on('subscription_error', (m: { event_id: string; error: { code: string; message: string } }) => {
      if (m.event_id !== eventId) return;
      onError(m.error);
      close();
    });
    socket.on('entries', (m: { event_id: string; entries: TimelineEntry[] }) => {
      if (m.event_id !== eventId || done) return;
      const fresh = m.entries.filter((e) => e.seq > lastSeq);
      if (!fresh.length) return;
      lastSeq = fresh[fresh.length - 1].seq;
      onEntries(fresh);
      const final = fresh.find((e) => e.type === 'final');
      if (final) {
        done = true;
        socket.close();
        resolve(final);
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

  logs(componentId: string, tail: number, onLines: (lines: RuntimeLine[]) => void, onError: (e: { code: string; message: string }) => void) {
    return subscribeLogs(
      io(this.profile.url, { auth: { token: this.profile.token }, transports: ['websocket'] }),
      { dc: this.dcRef, component_id: componentId },
      tail,
      onLines,
      onError,
    );
  }
}

/** logs.subscribe on a socket (a data center's or the console's: the same protocol); the tail only on the first connect. */
function subscribeLogs(
  socket: Socket,
  target: Record<string, string>,
  tail: number,
  onLines: (lines: RuntimeLine[]) => void,
  onError: (e: { code: string; message: string }) => void,
) {
  let first = true;
  socket.on('connect', () => {
    socket.emit('logs.subscribe', { ...target, tail: first ? tail : 0 }, (ack: { ok: boolean; error?: { code: string; message: string } }) => {
      if (!ack.ok) onError(ack.error ?? { code: 'unknown', message: 'refused' });
    });
    first = false;
  });
  socket.on('connect_error', (err) => /unauthenticated/.test(err.message) && onError({ code: 'unauthenticated', message: err.message }));
  socket.on('logs', (m: { component_id: string; lines: RuntimeLine[] }) => {
    if (m.component_id === target.component_id) onLines(m.lines);
  });
  return { close: () => socket.close() };
}
