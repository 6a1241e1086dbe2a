import type { Message } from '@bufbuild/protobuf';
import { isEtcdUnavailable } from '@wharf/etcd';
import type {
  AppendOptions,
  AppendResult,
  Claim,
  EventStore,
  ExpectedVersion,
  FeedPosition,
  NewEvent,
  RecordedEvent,
  Snapshot,
  SubscribeOptions,
  Subscription,
} from '@wharf/event-store';
import type { DependencyState } from '../domain/dependency-state';

/**
 * The event store as the use cases see it: while etcd is known to be down, calls are
 * refused at once (UnavailableError, 503 with Retry-After) instead of each waiting out
 * the etcd client's retries; a call that fails because etcd cannot be reached marks it
 * down and answers the same. The feed (subscribe) is not guarded: it retries by itself.
 */
export class GuardedEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly etcd: DependencyState,
  ) {}

  private async guard<T>(call: () => Promise<T>): Promise<T> {
    this.etcd.assertUp();
    try {
      return await call();
    } catch (err) {
      if (!isEtcdUnavailable(err)) throw err;
      this.etcd.markDown((err as Error).message);
      throw this.etcd.unavailable();
    }
  }

  append(stream: string, events: NewEvent[], expected: ExpectedVersion, options?: AppendOptions): Promise<AppendResult> {
    return this.guard(() => this.inner.append(stream, events, expected, options));
  }

  readClaims(names: readonly string[]): Promise<Map<string, Claim>> {
    return this.guard(() => this.inner.readClaims(names));
  }

  read(stream: string, fromVersion?: number, limit?: number): Promise<RecordedEvent[]> {
    return this.guard(() => this.inner.read(stream, fromVersion, limit));
  }

  version(stream: string): Promise<number> {
    return this.guard(() => this.inner.version(stream));
  }

  head(): Promise<FeedPosition> {
    return this.guard(() => this.inner.head());
  }

  subscribe(from: FeedPosition, handler: (event: RecordedEvent) => void | Promise<void>, options?: SubscribeOptions): Subscription {
    return this.inner.subscribe(from, handler, options);
  }

  saveSnapshot(stream: string, version: number, state: Message): Promise<void> {
    return this.guard(() => this.inner.saveSnapshot(stream, version, state));
  }

  loadSnapshot<S extends Message = Message>(stream: string): Promise<Snapshot<S> | undefined> {
    return this.guard(() => this.inner.loadSnapshot<S>(stream));
  }
}
