import { errorOf, isErrorCode, UnavailableError, WharfError, type ErrorCode } from '@wharf/errors';
import type { OperationInfo } from '../domain/operation-info';
import type { Readiness } from '../domain/readiness';
import type { EntryRecord } from '../domain/records';
import type { FollowSink } from '../engine/follow-sink';
import type { OperationLog } from './operation-log';

/** Either end of a worker_threads channel (Worker, parentPort, MessagePort). */
export interface Channel {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** The engine calls the streaming thread makes (all answer with a structured-cloneable value). */
export interface OperationLogCalls {
  info(eventId: string): Promise<OperationInfo | undefined>;
  read(eventId: string, afterSeq: number, limit: number): Promise<{ info?: OperationInfo; entries: EntryRecord[]; more: boolean }>;
  listOperations(
    target: string,
    cursor: string,
    limit: number,
  ): Promise<{ operations: OperationInfo[]; nextCursor: string }> | { operations: OperationInfo[]; nextCursor: string };
  ownedPartitions(): Promise<number[]> | number[];
  readiness(): Promise<Readiness>;
  follow(eventId: string, afterSeq: number, sink: FollowSink): () => void;
}

type CallMethod = 'info' | 'read' | 'listOperations' | 'ownedPartitions' | 'readiness';
const CALLS: readonly string[] = ['info', 'read', 'listOperations', 'ownedPartitions', 'readiness'] satisfies CallMethod[];

/** A thrown error as it crosses: its @wharf/errors code and details survive (anything else is internal). */
interface WireError {
  message: string;
  code: ErrorCode;
  field?: string;
  reason?: string;
  retryAfterMs?: number;
}

function toWireError(err: unknown): WireError {
  if (err instanceof WharfError) return { message: err.message, code: err.code, field: err.field, reason: err.reason, retryAfterMs: err.retryAfterMs };
  return { message: err instanceof Error ? err.message : String(err), code: 'internal' };
}

function fromWireError(e: WireError): WharfError {
  return errorOf(isErrorCode(e.code) ? e.code : 'internal', e.message, { field: e.field, reason: e.reason, retryAfterMs: e.retryAfterMs });
}

type ToIngest =
  | { t: 'call'; id: number; method: CallMethod; args: unknown[] }
  | { t: 'follow'; id: number; eventId: string; afterSeq: number }
  | { t: 'unfollow'; id: number };

/** A follow's entries ([id, entries]) or its end ([id, null, reason]), in the order they happened. */
type FollowItem = [number, EntryRecord[]] | [number, null, string];
/** sentAt: wall-clock ms (sub-ms) when the ingest thread posted the items. */
type ToStreaming =
  { t: 'result'; id: number; value: unknown } | { t: 'error'; id: number; error: WireError } | { t: 'follow-items'; items: FollowItem[]; sentAt: number };

// Wall-clock ms with sub-ms resolution; comparable between threads of one process.
const wallMs = () => performance.timeOrigin + performance.now();

const isMessage = (m: unknown): m is { t: string } => typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';

/**
 * Ingest side: answers calls with the engine and runs follows, posting their entries. Entries
 * of every follow produced in one event-loop turn go in one message (a commit touches many
 * operations; one postMessage per turn instead of one per operation).
 */
export function serveOperationLog(channel: Channel, engine: OperationLogCalls): { close(): void } {
  const follows = new Map<number, () => void>();
  let items: FollowItem[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (items.length === 0) return;
    const batch = items;
    items = [];
    channel.postMessage({ t: 'follow-items', items: batch, sentAt: wallMs() } satisfies ToStreaming);
  };
  const queue = (item: FollowItem) => {
    items.push(item);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const onMessage = (m: unknown) => {
    if (!isMessage(m)) return;
    const msg = m as ToIngest;
    switch (msg.t) {
      case 'call': {
        if (!CALLS.includes(msg.method)) {
          channel.postMessage({ t: 'error', id: msg.id, error: { code: 'internal', message: `unknown call ${String(msg.method)}` } } satisfies ToStreaming);
          return;
        }
        const fn = engine[msg.method] as (...a: unknown[]) => unknown;
        Promise.resolve()
          .then(() => fn.apply(engine, msg.args))
          .then(
            (value) => channel.postMessage({ t: 'result', id: msg.id, value } satisfies ToStreaming),
            (err: unknown) => channel.postMessage({ t: 'error', id: msg.id, error: toWireError(err) } satisfies ToStreaming),
          );
        return;
      }
      case 'follow': {
        let ended = false;
        const cancel = engine.follow(msg.eventId, msg.afterSeq, {
          entries: (entries) => {
            if (!ended) queue([msg.id, entries]);
          },
          end: (reason) => {
            if (ended) return;
            ended = true;
            follows.delete(msg.id);
            queue([msg.id, null, reason]);
          },
        });
        if (!ended) follows.set(msg.id, cancel);
        return;
      }
      case 'unfollow': {
        const cancel = follows.get(msg.id);
        follows.delete(msg.id);
        cancel?.();
        return;
      }
    }
  };
  channel.on('message', onMessage);
  return {
    close() {
      channel.off('message', onMessage);
      for (const cancel of follows.values()) cancel();
      follows.clear();
      flush();
    },
  };
}

/** Streaming side: the OperationLog of the engine on the other thread. */
export class OperationLogClient implements OperationLog {
  private nextId = 1;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly sinks = new Map<number, FollowSink>();
  private closedReason?: string;
  private readonly onMessage = (m: unknown) => this.receive(m);
  /**
   * Told, for every batch of follow entries, how long it waited between the ingest thread
   * posting it and this thread taking it (s): this thread's event-loop queueing.
   */
  onHandoff?: (seconds: number) => void;

  constructor(private readonly channel: Channel) {
    channel.on('message', this.onMessage);
  }

  info(eventId: string): Promise<OperationInfo | undefined> {
    return this.call('info', [eventId]);
  }

  read(eventId: string, afterSeq: number, limit: number): Promise<{ info?: OperationInfo; entries: EntryRecord[]; more: boolean }> {
    return this.call('read', [eventId, afterSeq, limit]);
  }

  listOperations(target: string, cursor: string, limit: number): Promise<{ operations: OperationInfo[]; nextCursor: string }> {
    return this.call('listOperations', [target, cursor, limit]);
  }

  ownedPartitions(): Promise<number[]> {
    return this.call('ownedPartitions', []);
  }

  readiness(): Promise<Readiness> {
    return this.call('readiness', []);
  }

  follow(eventId: string, afterSeq: number, sink: FollowSink): () => void {
    if (this.closedReason !== undefined) {
      const reason = this.closedReason;
      queueMicrotask(() => sink.end(reason));
      return () => undefined;
    }
    const id = this.nextId++;
    this.sinks.set(id, sink);
    this.channel.postMessage({ t: 'follow', id, eventId, afterSeq } satisfies ToIngest);
    return () => {
      if (!this.sinks.delete(id)) return;
      this.channel.postMessage({ t: 'unfollow', id } satisfies ToIngest);
    };
  }

  /** The other thread is gone: pending calls fail, follows end (subscribers resume elsewhere). */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.channel.off('message', this.onMessage);
    for (const c of this.calls.values()) c.reject(new UnavailableError(reason));
    this.calls.clear();
    const sinks = [...this.sinks.values()];
    this.sinks.clear();
    for (const s of sinks) s.end(reason);
  }

  private call<T>(method: CallMethod, args: unknown[]): Promise<T> {
    if (this.closedReason !== undefined) return Promise.reject(new UnavailableError(this.closedReason));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.channel.postMessage({ t: 'call', id, method, args } satisfies ToIngest);
    });
  }

  private receive(m: unknown): void {
    if (!isMessage(m)) return;
    const msg = m as ToStreaming;
    switch (msg.t) {
      case 'result':
      case 'error': {
        const c = this.calls.get(msg.id);
        if (!c) return;
        this.calls.delete(msg.id);
        if (msg.t === 'result') c.resolve(msg.value);
        else c.reject(fromWireError(msg.error));
        return;
      }
      case 'follow-items':
        if (this.onHandoff && typeof msg.sentAt === 'number') this.onHandoff(Math.max(0, wallMs() - msg.sentAt) / 1000);
        for (const item of msg.items) {
          const sink = this.sinks.get(item[0]);
          if (!sink) continue;
          if (item[1]) sink.entries(item[1]);
          else {
            this.sinks.delete(item[0]);
            sink.end(item[2]);
          }
        }
        return;
    }
  }
}
