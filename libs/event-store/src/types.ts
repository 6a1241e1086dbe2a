import type { Message } from '@bufbuild/protobuf';

/**
 * The public contract of the event store. Streams are named "<kind>/<id>"; versions
 * start at 1; the global position of an event is the etcd revision that wrote it
 * (all events of one append share one revision and are ordered by stream version).
 */

/** Position in the global feed: an etcd revision, as a decimal string (revisions are int64). */
export type FeedPosition = string;
/** Subscribe from the very beginning of the feed. */
export const FEED_START: FeedPosition = '0';

export interface NewEvent {
  /** A wharf.events.v1 message (protobuf-es v2, carries $typeName). Stored as binary. */
  message: Message;
  /** The operation this change belongs to ('' or undefined outside any operation). */
  eventId?: string;
  /** "user:<id>", "token:<id>", "service:<name>". */
  actor?: string;
}

export interface RecordedEvent<M extends Message = Message> {
  stream: string;
  version: number;
  /** Fully qualified protobuf type name, e.g. "wharf.events.v1.OperationRequested". */
  type: string;
  /** Decoded payload (the store's registry decodes it). */
  message: M;
  timeMs: number;
  eventId: string;
  actor: string;
  /** Global feed position of this event (its etcd mod revision). */
  position: FeedPosition;
}

/** expectedVersion: exact version the stream must be at, 0 = must not exist yet, 'any' = no check. */
export type ExpectedVersion = number | 'any';

export interface AppendResult {
  /** Version of the last appended event. */
  version: number;
  position: FeedPosition;
}

/**
 * A unique name held by one holder (e.g. a route host + path held by a component), written in
 * the same etcd transaction as an append's events, so two racing writers cannot both take it.
 * expectedRevision is the claim's revision as read (readClaims), 0 when it is absent: the append
 * fails with ClaimConflictError when the claim changed since.
 */
export interface ClaimWrite {
  name: string;
  holder: string;
  expectedRevision: FeedPosition | 0;
}

/** A claim as stored: its holder and the etcd revision that last wrote it. */
export interface Claim {
  name: string;
  holder: string;
  revision: FeedPosition;
}

export interface AppendOptions {
  /** Claims taken (or kept) atomically with the events. Releasing is the caller's rule (a holder may no longer want a claim it still holds). */
  claims?: ClaimWrite[];
}

export interface Snapshot<S extends Message = Message> {
  stream: string;
  version: number;
  state: S;
}

export interface Subscription {
  /** Position of the last event fully handled (resume from here). */
  readonly position: FeedPosition;
  /** Resolves when caught up with the feed as of subscription time (live from then on). */
  readonly caughtUp: Promise<void>;
  /**
   * True while the subscription is caught up and its watch is connected: what it has seen is
   * the feed as of now, give or take events in flight. False while catching up or
   * disconnected (etcd down). Subscriptions that cannot tell leave it undefined.
   */
  readonly live?: boolean;
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** Only events of streams starting with this prefix, e.g. "component/". Default: all. */
  streamPrefix?: string;
  /** Called when the handler throws or the feed fails beyond retry; the subscription stops. */
  onError?: (err: Error) => void;
  /** Called whenever every event up to a position has been handled (whole revisions). */
  onProgress?: (position: FeedPosition) => void;
}

export interface EventStore {
  /**
   * Appends events atomically in one etcd transaction. Throws ConcurrencyError (and writes
   * nothing) when the stream is not at expectedVersion, ClaimConflictError when a claim of
   * options.claims is no longer at its expected revision.
   */
  append(stream: string, events: NewEvent[], expectedVersion: ExpectedVersion, options?: AppendOptions): Promise<AppendResult>;
  /** The stored claims among these names (absent ones are missing from the map). */
  readClaims(names: readonly string[]): Promise<Map<string, Claim>>;
  /** Events of one stream from fromVersion (default 1), in version order. */
  read(stream: string, fromVersion?: number, limit?: number): Promise<RecordedEvent[]>;
  /** Current version of a stream, 0 when it does not exist. */
  version(stream: string): Promise<number>;
  /**
   * The global feed after `from` (exclusive): catch-up then live, in position order, no gap,
   * no duplicate, across etcd restarts and reconnects. The handler is awaited per event
   * (backpressure); the next event is not delivered before it settles.
   */
  subscribe(from: FeedPosition, handler: (event: RecordedEvent) => void | Promise<void>, options?: SubscribeOptions): Subscription;
  /** The current head of the feed (the etcd revision now). */
  head(): Promise<FeedPosition>;
  saveSnapshot(stream: string, version: number, state: Message): Promise<void>;
  loadSnapshot<S extends Message = Message>(stream: string): Promise<Snapshot<S> | undefined>;
}
