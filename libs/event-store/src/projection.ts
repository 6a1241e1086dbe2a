import { UnavailableError } from '@wharf/errors';
import { FEED_START, type EventStore, type FeedPosition, type RecordedEvent, type Subscription } from './types';

/**
 * A read model: a pure fold of the feed. Keeping apply() free of I/O is what makes a
 * projection rebuildable from zero to the same state, and testable without etcd.
 */
export interface ProjectionDefinition<S> {
  readonly name: string;
  initial(): S;
  /** Folds one event into the state (may mutate it); returns the new state. */
  apply(state: S, event: RecordedEvent): S;
  /** Only streams with this prefix, e.g. "component/". */
  readonly streamPrefix?: string;
}

/** Folds one event list (e.g. a stream read) without etcd: the same code the live projection runs. */
export function fold<S>(definition: ProjectionDefinition<S>, events: Iterable<RecordedEvent>, state: S = definition.initial()): S {
  for (const event of events) state = definition.apply(state, event);
  return state;
}

/** A projection following the live feed, kept in memory. */
export class Projection<S> {
  private current: S;
  private at: FeedPosition = FEED_START;
  private subscription?: Subscription;
  private waiters: { position: bigint; resolve: () => void; reject: (err: Error) => void }[] = [];
  private failure?: Error;

  constructor(
    private readonly store: EventStore,
    readonly definition: ProjectionDefinition<S>,
  ) {
    this.current = definition.initial();
  }

  get state(): S {
    return this.current;
  }
  get position(): FeedPosition {
    return this.subscription?.position ?? this.at;
  }
  /** Started, not failed, and following the live feed (see Subscription.live; a subscription that cannot tell counts as live). */
  get live(): boolean {
    return !!this.subscription && !this.failure && this.subscription.live !== false;
  }

  /** Starts following, from zero or from a saved (state, position); resolves once caught up. */
  async start(from?: { state: S; position: FeedPosition }): Promise<void> {
    if (this.subscription) throw new Error(`projection ${this.definition.name} already started`);
    if (from) {
      this.current = from.state;
      this.at = from.position;
    }
    this.subscription = this.store.subscribe(
      this.at,
      (event) => {
        this.current = this.definition.apply(this.current, event);
        this.at = event.position;
      },
      {
        streamPrefix: this.definition.streamPrefix,
        onProgress: () => this.release(),
        onError: (err) => {
          this.failure = err;
          for (const w of this.waiters.splice(0)) w.reject(err);
        },
      },
    );
    await this.subscription.caughtUp;
    this.release();
  }

  /** Resolves when the projection has applied everything up to `position` (read your own writes). */
  waitFor(position: FeedPosition, timeoutMs = 5000): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const target = BigInt(position);
    if (BigInt(this.position) >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        // The feed is behind (etcd slow or away), not a bug: the caller may retry.
        reject(
          new UnavailableError(`projection ${this.definition.name} did not reach position ${position} within ${timeoutMs} ms (at ${this.position})`, {
            retryAfterMs: 1000,
          }),
        );
      }, timeoutMs);
      const waiter = { position: target, resolve: () => (clearTimeout(timer), resolve()), reject: (err: Error) => (clearTimeout(timer), reject(err)) };
      this.waiters.push(waiter);
    });
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  /** Builds the projection from zero up to the feed's head now, then stops. */
  static async rebuild<S>(store: EventStore, definition: ProjectionDefinition<S>): Promise<{ state: S; position: FeedPosition }> {
    const projection = new Projection(store, definition);
    await projection.start();
    const result = { state: projection.state, position: projection.position };
    await projection.stop();
    return result;
  }

  private release(): void {
    // The subscription's position (not the last event's) says a whole revision is applied.
    const pos = BigInt(this.position);
    const ready = this.waiters.filter((w) => w.position <= pos);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}
