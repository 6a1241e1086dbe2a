import { create, fromBinary, toBinary, type Message, type Registry } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { KeyLayout, type Etcd3 } from '@wharf/etcd';
import { assertStreamName, decodeEnvelope, encodeEnvelope, eventsRegistry } from './codec';
import { ClaimConflictError, ConcurrencyError, EventStoreInputError } from './errors';
import { FeedSubscription } from './feed';
import { prefixEnd } from './prefix';
import type {
  AppendOptions,
  AppendResult,
  Claim,
  ClaimWrite,
  EventStore,
  ExpectedVersion,
  FeedPosition,
  NewEvent,
  RecordedEvent,
  Snapshot,
  SubscribeOptions,
  Subscription,
} from './types';

/** etcd refuses requests over --max-request-bytes (1.5 MiB by default); stay under it with room for the txn framing. */
export const MAX_APPEND_BYTES = 1_500_000;
export const MAX_EVENTS_PER_APPEND = 100; // etcd's default --max-txn-ops is 128, and the head key is one more
/** Claims of one append; with MAX_EVENTS_PER_APPEND events they would pass --max-txn-ops, so events + claims are bounded too. */
export const MAX_CLAIMS_PER_APPEND = 100;
const MAX_TXN_OPS = 127;
const MAX_CLAIM_NAME_BYTES = 2048;

function assertClaimName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > MAX_CLAIM_NAME_BYTES || /[\u0000-\u001f]/.test(name))
    throw new EventStoreInputError(`claim name must be 1-${MAX_CLAIM_NAME_BYTES} bytes without control characters, got ${JSON.stringify(name)}`);
}

export interface EtcdEventStoreOptions {
  client: Etcd3;
  keys?: KeyLayout;
  registry?: Registry;
  now?: () => number;
}

export class EtcdEventStore implements EventStore {
  readonly client: Etcd3;
  readonly keys: KeyLayout;
  readonly registry: Registry;
  private readonly now: () => number;

  constructor(options: EtcdEventStoreOptions) {
    this.client = options.client;
    this.keys = options.keys ?? new KeyLayout();
    this.registry = options.registry ?? eventsRegistry();
    this.now = options.now ?? Date.now;
  }

  async append(stream: string, events: NewEvent[], expectedVersion: ExpectedVersion, options: AppendOptions = {}): Promise<AppendResult> {
    assertStreamName(stream);
    const claims = options.claims ?? [];
    if (claims.length > MAX_CLAIMS_PER_APPEND || claims.length + events.length > MAX_TXN_OPS)
      throw new EventStoreInputError(
        `append takes at most ${MAX_CLAIMS_PER_APPEND} claims and ${MAX_TXN_OPS} events and claims together, got ${claims.length} claims and ${events.length} events`,
      );
    if (new Set(claims.map((c) => c.name)).size !== claims.length) throw new EventStoreInputError('append names a claim twice');
    for (const c of claims) {
      assertClaimName(c.name);
      if (c.expectedRevision !== 0 && !/^\d+$/.test(c.expectedRevision))
        throw new EventStoreInputError(`claim ${c.name}: expectedRevision must be 0 or a decimal etcd revision`);
    }
    if (events.length === 0) throw new EventStoreInputError('append needs at least one event');
    if (events.length > MAX_EVENTS_PER_APPEND) throw new EventStoreInputError(`append takes at most ${MAX_EVENTS_PER_APPEND} events, got ${events.length}`);
    if (expectedVersion !== 'any' && (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0)) {
      throw new EventStoreInputError(`expectedVersion must be a non-negative integer or 'any', got ${expectedVersion}`);
    }
    for (;;) {
      const base = expectedVersion === 'any' ? await this.version(stream) : expectedVersion;
      const result = await this.tryAppend(stream, events, base, claims);
      if (result.ok) return result.value;
      // The stream is where it was expected, so a claim's compare failed.
      if (result.actual === base && claims.length) throw new ClaimConflictError(claims.map((c) => c.name));
      if (expectedVersion !== 'any') throw new ConcurrencyError(stream, expectedVersion, result.actual);
      // 'any' still appends atomically: a writer slipped in between read and write, so retry on the new head.
    }
  }

  private async tryAppend(
    stream: string,
    events: NewEvent[],
    base: number,
    claims: readonly ClaimWrite[],
  ): Promise<{ ok: true; value: AppendResult } | { ok: false; actual: number }> {
    const head = this.keys.es.head(stream);
    const timeMs = this.now();
    let bytes = 0;
    const puts = events.map((e, i) => {
      const version = base + i + 1;
      const value = Buffer.from(encodeEnvelope(this.registry, { stream, version, message: e.message, timeMs, eventId: e.eventId ?? '', actor: e.actor ?? '' }));
      const key = this.keys.es.event(stream, version);
      bytes += value.length + key.length;
      return this.client.put(key).value(value);
    });
    if (bytes > MAX_APPEND_BYTES) throw new EventStoreInputError(`append of ${bytes} bytes exceeds the limit of ${MAX_APPEND_BYTES} bytes (etcd request size)`);
    const last = base + events.length;
    const txn = base === 0 ? this.client.if(head, 'Create', '==', 0) : this.client.if(head, 'Value', '==', String(base));
    for (const c of claims) txn.and(this.keys.es.claim(c.name), 'Mod', '==', c.expectedRevision);
    const claimPuts = claims.map((c) => this.client.put(this.keys.es.claim(c.name)).value(c.holder));
    const res = await txn
      .then(this.client.put(head).value(String(last)), ...puts, ...claimPuts)
      .else(this.client.get(head))
      .commit();
    if (res.succeeded) return { ok: true, value: { version: last, position: String(res.header.revision) } };
    const kv = res.responses[0]?.response_range?.kvs?.[0];
    return { ok: false, actual: kv ? Number(kv.value.toString()) : 0 };
  }

  async readClaims(names: readonly string[]): Promise<Map<string, Claim>> {
    names.forEach(assertClaimName);
    const found = new Map<string, Claim>();
    if (!names.length) return found;
    // In parallel over the one connection; no snapshot needed, the append's compares catch a change since.
    const ranges = await Promise.all(names.map((n) => this.client.get(this.keys.es.claim(n)).exec()));
    ranges.forEach((r, i) => {
      const kv = r.kvs[0];
      if (kv) found.set(names[i], { name: names[i], holder: kv.value.toString(), revision: String(kv.mod_revision) });
    });
    return found;
  }

  async read(stream: string, fromVersion = 1, limit?: number): Promise<RecordedEvent[]> {
    assertStreamName(stream);
    const prefix = this.keys.es.streamPrefix(stream);
    const res = await this.client.kv.range({
      key: Buffer.from(this.keys.es.event(stream, Math.max(1, fromVersion))),
      range_end: prefixEnd(prefix),
      limit: limit ?? 0,
    });
    return (res.kvs ?? []).map((kv) => decodeEnvelope(this.registry, kv.value, String(kv.mod_revision)));
  }

  async version(stream: string): Promise<number> {
    assertStreamName(stream);
    const value = await this.client.get(this.keys.es.head(stream)).string();
    return value === null ? 0 : Number(value);
  }

  async head(): Promise<FeedPosition> {
    const res = await this.client.kv.range({ key: Buffer.from(this.keys.es.head('')), limit: 1, count_only: true });
    return String(res.header.revision);
  }

  subscribe(from: FeedPosition, handler: (event: RecordedEvent) => void | Promise<void>, options: SubscribeOptions = {}): Subscription {
    if (!/^\d+$/.test(from)) throw new EventStoreInputError(`feed position must be a decimal etcd revision, got ${JSON.stringify(from)}`);
    return new FeedSubscription(
      this.client,
      this.keys.es.eventsPrefix() + (options.streamPrefix ?? ''),
      from,
      handler,
      (bytes, pos) => decodeEnvelope(this.registry, bytes, pos),
      options.onError,
      options.onProgress,
    );
  }

  async saveSnapshot(stream: string, version: number, state: Message): Promise<void> {
    assertStreamName(stream);
    const desc = this.registry.getMessage(state.$typeName);
    if (!desc) throw new EventStoreInputError(`snapshot type ${state.$typeName} is not in the event store's registry`);
    const snap = create(eventsV1.StreamSnapshotSchema, {
      stream,
      version: BigInt(version),
      type: desc.typeName,
      state: toBinary(desc, state),
      timeMs: BigInt(this.now()),
    });
    await this.client.put(this.keys.es.snapshot(stream)).value(Buffer.from(toBinary(eventsV1.StreamSnapshotSchema, snap)));
  }

  async loadSnapshot<S extends Message = Message>(stream: string): Promise<Snapshot<S> | undefined> {
    assertStreamName(stream);
    const bytes = await this.client.get(this.keys.es.snapshot(stream)).buffer();
    if (!bytes) return undefined;
    const snap = fromBinary(eventsV1.StreamSnapshotSchema, bytes);
    const desc = this.registry.getMessage(snap.type);
    if (!desc) throw new EventStoreInputError(`snapshot of ${stream} has type ${snap.type}, unknown to this registry`);
    return { stream, version: Number(snap.version), state: fromBinary(desc, snap.state) as S };
  }
}
