import type { Message } from '@bufbuild/protobuf';
import {
  ClaimConflictError,
  ConcurrencyError,
  type AppendOptions,
  type AppendResult,
  type Claim,
  type EventStore,
  type ExpectedVersion,
  type FeedPosition,
  type NewEvent,
  type RecordedEvent,
  type Snapshot,
  type SubscribeOptions,
  type Subscription,
} from '@wharf/event-store';

/** The EventStore contract in memory, for unit tests: one position per append, delivered synchronously. */
export class MemoryEventStore implements EventStore {
  readonly events: RecordedEvent[] = [];
  private readonly heads = new Map<string, number>();
  private readonly snapshots = new Map<string, Snapshot>();
  readonly claims = new Map<string, Claim>();
  private readonly subscribers = new Set<{
    handler: (e: RecordedEvent) => void | Promise<void>;
    options?: SubscribeOptions;
    sub: { position: FeedPosition };
  }>();
  private revision = 0;
  now = () => 1_700_000_000_000 + this.revision;

  async append(stream: string, events: NewEvent[], expected: ExpectedVersion, options: AppendOptions = {}): Promise<AppendResult> {
    const current = this.heads.get(stream) ?? 0;
    if (expected !== 'any' && expected !== current) throw new ConcurrencyError(stream, expected, current);
    const claims = options.claims ?? [];
    if (claims.some((c) => String(this.claims.get(c.name)?.revision ?? 0) !== String(c.expectedRevision)))
      throw new ClaimConflictError(claims.map((c) => c.name));
    const position = String(++this.revision);
    for (const c of claims) this.claims.set(c.name, { name: c.name, holder: c.holder, revision: position });
    const recorded = events.map((e, i): RecordedEvent => ({
      stream,
      version: current + i + 1,
      type: e.message.$typeName,
      message: e.message,
      timeMs: this.now(),
      eventId: e.eventId ?? '',
      actor: e.actor ?? '',
      position,
    }));
    this.heads.set(stream, current + events.length);
    this.events.push(...recorded);
    for (const s of this.subscribers) {
      for (const e of recorded) if (!s.options?.streamPrefix || e.stream.startsWith(s.options.streamPrefix)) void s.handler(e);
      s.sub.position = position;
      s.options?.onProgress?.(position);
    }
    return { version: current + events.length, position };
  }

  async readClaims(names: readonly string[]): Promise<Map<string, Claim>> {
    return new Map(names.flatMap((n) => (this.claims.has(n) ? [[n, this.claims.get(n)!] as const] : [])));
  }

  async read(stream: string, fromVersion = 1, limit?: number): Promise<RecordedEvent[]> {
    const all = this.events.filter((e) => e.stream === stream && e.version >= fromVersion);
    return limit ? all.slice(0, limit) : all;
  }

  async version(stream: string): Promise<number> {
    return this.heads.get(stream) ?? 0;
  }

  subscribe(from: FeedPosition, handler: (event: RecordedEvent) => void | Promise<void>, options?: SubscribeOptions): Subscription {
    for (const e of this.events)
      if (BigInt(e.position) > BigInt(from) && (!options?.streamPrefix || e.stream.startsWith(options.streamPrefix))) void handler(e);
    const sub = { position: String(this.revision) };
    const entry = { handler, options, sub };
    this.subscribers.add(entry);
    return {
      get position() {
        return sub.position;
      },
      caughtUp: Promise.resolve(),
      close: async () => void this.subscribers.delete(entry),
    };
  }

  async head(): Promise<FeedPosition> {
    return String(this.revision);
  }

  async saveSnapshot(stream: string, version: number, state: Message): Promise<void> {
    this.snapshots.set(stream, { stream, version, state });
  }

  async loadSnapshot<S extends Message = Message>(stream: string): Promise<Snapshot<S> | undefined> {
    return this.snapshots.get(stream) as Snapshot<S> | undefined;
  }
}
