import { create } from '@bufbuild/protobuf';
import { eventlogV1 } from '@wharf/contracts';
import { createLogger } from '@wharf/logging';
import type { PublishResult, StatusPublisher } from '../src/adapters/event-store/status-publisher';
import type { FeedOperation, FeedOperations } from '../src/adapters/feed/feed-operations';
import type { Ownership, PartitionOwner } from '../src/adapters/ownership/ownership';
import type { Peer, PeerFactory } from '../src/adapters/peers/peer';
import type { FinalDecision } from '../src/domain/final-status';
import type { AppendTotals, IngestFrame, TaggedFrame } from '../src/domain/frames';
import type { OperationInfo } from '../src/domain/operation-info';
import type { EntryRecord } from '../src/domain/records';

// In-memory stand-ins for the engine's ports (unit tests of engine/).

export const silentLogger = createLogger('event-log-test', 'silent');

/** Ownership a test sets by hand: partition -> owner, and a problem to report. */
export class FakeOwnership implements Ownership {
  readonly owners = new Map<number, PartitionOwner>();
  trouble?: string;
  handlers?: { acquire(p: number): Promise<void>; release(p: number): Promise<void> };

  owner(partition: number): PartitionOwner {
    return this.owners.get(partition);
  }
  problem(): string | undefined {
    return this.trouble;
  }
  async start(handlers: { acquire(p: number): Promise<void>; release(p: number): Promise<void> }): Promise<void> {
    this.handlers = handlers;
    for (const [p, o] of this.owners) if (o?.local) await handlers.acquire(p);
  }
  async stop(): Promise<void> {}

  /** Hands a partition to this instance (as a rebalance would). */
  async give(partition: number): Promise<void> {
    this.owners.set(partition, { local: true });
    await this.handlers?.acquire(partition);
  }
  /** Moves a partition to another instance (as a rebalance would). */
  async move(partition: number, instance: string, grpc: string): Promise<void> {
    await this.handlers?.release(partition);
    this.owners.set(partition, { local: false, instance, grpc });
  }
}

/** A peer whose answers the test scripts; it records what it was asked. */
export class FakePeer implements Peer {
  readonly appended: TaggedFrame[][] = [];
  readonly infos: string[] = [];
  closed = false;
  /** Thrown by every call while set (an owner that is down). */
  down?: Error;
  info_: OperationInfo | undefined;
  /** What follow() yields, batch by batch, before it ends. */
  followBatches: EntryRecord[][] = [];

  constructor(readonly address: string) {}

  async append(frames: TaggedFrame[]): Promise<AppendTotals> {
    if (this.down) throw this.down;
    this.appended.push(frames);
    return { accepted: frames.length, duplicates: 0 };
  }
  async info(eventId: string): Promise<OperationInfo | undefined> {
    this.infos.push(eventId);
    if (this.down) throw this.down;
    return this.info_;
  }
  async read(): Promise<{ info?: OperationInfo; entries: EntryRecord[]; more: boolean }> {
    if (this.down) throw this.down;
    return { info: this.info_, entries: this.followBatches.flat(), more: false };
  }
  async *follow(): AsyncIterable<EntryRecord[]> {
    if (this.down) throw this.down;
    for (const b of this.followBatches) yield b;
  }
  close(): void {
    this.closed = true;
  }
}

/** A peer factory that keeps what it made, by address. */
export function fakePeers(): { factory: PeerFactory; made: Map<string, FakePeer>; calls: string[] } {
  const made = new Map<string, FakePeer>();
  const calls: string[] = [];
  return {
    made,
    calls,
    factory: (address) => {
      calls.push(address);
      let p = made.get(address);
      if (!p) made.set(address, (p = new FakePeer(address)));
      return p;
    },
  };
}

/** The feed's operations, set by the test. */
export class FakeFeed implements FeedOperations {
  readonly operations = new Map<string, FeedOperation>();
  readonly byTarget = new Map<string, string[]>();
  onRequested?: (op: FeedOperation) => void;

  request(eventId: string, target: string, requestedMs: number, tenantId = 't1'): FeedOperation {
    const op: FeedOperation = { eventId, tenantId, target, kind: 1, requestedVersion: 2, requestedMs, started: false };
    this.operations.set(eventId, op);
    let list = this.byTarget.get(target);
    if (!list) this.byTarget.set(target, (list = []));
    list.push(eventId);
    this.onRequested?.(op);
    return op;
  }
}

/** Records what was published; fails the next `failures` calls. */
export class FakePublisher implements StatusPublisher {
  readonly startedIds: string[] = [];
  readonly finishedOps: { eventId: string; decision: FinalDecision }[] = [];
  failures = 0;

  async started(_target: string, _from: number, eventId: string): Promise<PublishResult> {
    this.failOnce();
    this.startedIds.push(eventId);
    return 'appended';
  }
  async finished(_target: string, _from: number, eventId: string, decision: FinalDecision): Promise<PublishResult> {
    this.failOnce();
    this.finishedOps.push({ eventId, decision });
    return 'appended';
  }
  private failOnce(): void {
    if (this.failures <= 0) return;
    this.failures--;
    throw new Error('event store unavailable');
  }
}

type Body = IngestFrame['body'];

/** A validated frame with a wire form, as the gRPC service hands it to the engine. */
export function tagged(eventId: string, body: Body, extra: Partial<IngestFrame> = {}): TaggedFrame {
  const frame: IngestFrame = { eventId, producer: '', producerSeq: 0, target: '', tenantId: '', body, ...extra };
  return { frame, wire: create(eventlogV1.FrameSchema, { eventId }) };
}

export const line = (text: string): Body => ({ kind: 'line', timeMs: 1, level: 2, step: '', text, truncated: false });
export const stepStarted = (step: string): Body => ({ kind: 'step_started', step });
export const stepFinished = (step: string, ok: boolean, message = ''): Body => ({ kind: 'step_finished', step, ok, message });
export const done: Body = { kind: 'done' };
