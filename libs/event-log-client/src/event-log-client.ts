import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { eventlogV1 } from '@wharf/contracts';
import { createClient, InvalidArgumentError, type ServiceClient } from '@wharf/grpc';
import type { TransportSecurity } from '@wharf/pki';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

type FrameInit = MessageInitShape<typeof eventlogV1.FrameSchema>;
export type Level = 'debug' | 'info' | 'warn' | 'error';

const levels: Record<Level, eventlogV1.LogLevel> = {
  debug: eventlogV1.LogLevel.DEBUG,
  info: eventlogV1.LogLevel.INFO,
  warn: eventlogV1.LogLevel.WARN,
  error: eventlogV1.LogLevel.ERROR,
};

export interface EventLogClientOptions {
  /** HOST:PORT of any event-log instance (it forwards to the partition's owner). */
  address: string;
  /** The caller's certificate for mutual TLS (its identity must be allowed to Append), or insecure-dev. */
  security: TransportSecurity;
  /** Names this sender; retries are recognised by (producer, seq). Default: host-pid-random. */
  producer?: string;
  /** Lines buffered while event-log is slow or down; past it lines are dropped and counted. */
  maxBufferedLines?: number;
  /** Frames per Append call. */
  maxBatch?: number;
  /** How long a frame may wait for companions before a send. */
  lingerMs?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  timeoutMs?: number;
  /** Where the client reports what it drops or retries. */
  onWarning?: (message: string, err?: unknown) => void;
  /** For tests: a client instead of a connection to `address`. */
  client?: Pick<ServiceClient<typeof eventlogV1.EventLogService>, 'append' | 'close'>;
}

interface Queued {
  frame: FrameInit;
  line: boolean;
}

/**
 * What every service uses to report an operation to event-log. Frames are queued and sent in
 * batches, in order, one Append at a time; a batch is retried (with back-off) until
 * event-log has it on disk, and the server drops retries it already stored (producer +
 * producer_seq), so nothing is lost or doubled while event-log restarts or moves.
 * Bounded: past maxBufferedLines, log lines are dropped (counted, and a marker line says how
 * many) while steps and done are always kept. close() flushes what is queued.
 *
 *   const log = new EventLogClient({ address, security });
 *   const op = log.operation(eventId, { target: `component/${id}`, tenantId });
 *   const clone = op.step('clone'); clone.line('cloning ...'); clone.ok();
 *   op.done(); await log.close();
 */
export class EventLogClient {
  readonly producer: string;
  private readonly client: Pick<ServiceClient<typeof eventlogV1.EventLogService>, 'append' | 'close'>;
  private readonly queue: Queued[] = [];
  private lines = 0;
  private seq = 0;
  private sending?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly droppedByEvent = new Map<string, number>();
  private drainWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  /** Lines dropped because the buffer was full. */
  dropped = 0;
  /** Frames the server refused as malformed (never retried). */
  refused = 0;
  private readonly o: Required<Omit<EventLogClientOptions, 'client' | 'producer' | 'onWarning' | 'security'>> & Pick<EventLogClientOptions, 'onWarning'>;

  constructor(options: EventLogClientOptions) {
    this.o = {
      address: options.address,
      maxBufferedLines: options.maxBufferedLines ?? 10_000,
      maxBatch: options.maxBatch ?? 1000,
      lingerMs: options.lingerMs ?? 5,
      retryInitialMs: options.retryInitialMs ?? 100,
      retryMaxMs: options.retryMaxMs ?? 5000,
      timeoutMs: options.timeoutMs ?? 10_000,
      onWarning: options.onWarning,
    };
    this.producer =
      options.producer ??
      `${hostname()
        .replace(/[^A-Za-z0-9._-]/g, '-')
        .slice(0, 40)}-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.client = options.client ?? createClient(eventlogV1.EventLogService, options.address, { security: options.security });
  }

  operation(eventId: string, meta: { target?: string; tenantId?: string } = {}): OperationReporter {
    return new OperationReporter(this, eventId, meta.target ?? '', meta.tenantId ?? '');
  }

  /** Lines waiting to be acknowledged. */
  get buffered(): number {
    return this.lines;
  }

  /** Resolves when the buffer has room again (for producers that would rather wait than drop). */
  drained(): Promise<void> {
    if (this.lines < this.o.maxBufferedLines) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Resolves when everything queued so far is on event-log's disk (or timeoutMs passed: false). */
  async flush(timeoutMs = 30_000): Promise<boolean> {
    if (this.queue.length === 0 && !this.sending) return true;
    this.kick(true);
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([idle, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Flushes (up to timeoutMs), then closes the connection; what could not be sent is reported. */
  async close(timeoutMs = 10_000): Promise<void> {
    const flushed = await this.flush(timeoutMs);
    this.closed = true;
    if (!flushed) this.o.onWarning?.(`closing with ${this.queue.length} frames not acknowledged by event-log`);
    if (this.timer) clearTimeout(this.timer);
    this.client.close();
  }

  /** @internal */
  enqueue(frame: FrameInit, isLine: boolean): boolean {
    if (this.closed) return false;
    const eventId = frame.eventId!;
    if (isLine) {
      if (this.lines >= this.o.maxBufferedLines) {
        this.dropped++;
        this.droppedByEvent.set(eventId, (this.droppedByEvent.get(eventId) ?? 0) + 1);
        return false;
      }
      const missed = this.droppedByEvent.get(eventId);
      if (missed) {
        this.droppedByEvent.delete(eventId);
        const marker: FrameInit = {
          eventId,
          target: frame.target,
          tenantId: frame.tenantId,
          body: {
            case: 'line',
            value: {
              timeMs: BigInt(Date.now()),
              level: eventlogV1.LogLevel.WARN,
              text: `[event-log-client: ${missed} lines dropped while event-log was unreachable]`,
            },
          },
        };
        this.push(marker, true);
      }
    }
    this.push(frame, isLine);
    this.kick(this.queue.length >= this.o.maxBatch);
    return true;
  }

  private push(frame: FrameInit, isLine: boolean): void {
    this.queue.push({ frame: { ...frame, producer: this.producer, producerSeq: BigInt(++this.seq) }, line: isLine });
    if (isLine) this.lines++;
  }

  private kick(now: boolean): void {
    if (this.sending) return;
    if (now || this.o.lingerMs <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.sending = this.sendLoop().finally(() => {
        this.sending = undefined;
        if (this.queue.length) this.kick(false);
        else for (const w of this.idleWaiters.splice(0)) w();
      });
    } else if (!this.timer) {
      this.timer = setTimeout(() => ((this.timer = undefined), this.kick(true)), this.o.lingerMs);
    }
  }

  private async sendLoop(): Promise<void> {
    let delay = this.o.retryInitialMs;
    while (this.queue.length && !this.closed) {
      const batch = this.queue.slice(0, this.o.maxBatch);
      try {
        const res = await this.client.append(create(eventlogV1.AppendRequestSchema, { frames: batch.map((q) => q.frame) }), { timeoutMs: this.o.timeoutMs });
        if (res.rejected.length) {
          this.refused += res.rejected.length;
          this.o.onWarning?.(`event-log refused ${res.rejected.length} frames, e.g. ${res.rejected[0].reason}`);
        }
        this.settle(batch.length);
        delay = this.o.retryInitialMs;
      } catch (err) {
        if (err instanceof InvalidArgumentError) {
          // The request itself is wrong (e.g. too big): retrying cannot help.
          this.o.onWarning?.('event-log refused a batch; dropping it', err);
          this.refused += batch.length;
          this.settle(batch.length);
          continue;
        }
        this.o.onWarning?.(`event-log unavailable, retrying in ${delay} ms`, err);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.o.retryMaxMs);
      }
    }
  }

  private settle(n: number): void {
    const done = this.queue.splice(0, n);
    for (const q of done) if (q.line) this.lines--;
    if (this.lines < this.o.maxBufferedLines) for (const w of this.drainWaiters.splice(0)) w();
  }
}

/** Reports one operation: steps, lines, done. */
export class OperationReporter {
  constructor(
    private readonly client: EventLogClient,
    readonly eventId: string,
    private readonly target: string,
    private readonly tenantId: string,
  ) {}

  private frame(body: FrameInit['body']): FrameInit {
    return { eventId: this.eventId, target: this.target, tenantId: this.tenantId, body };
  }

  /** Starts a step; finish it with ok() or fail(message). */
  step(name: string): StepReporter {
    this.client.enqueue(this.frame({ case: 'stepStarted', value: { step: name } }), false);
    return new StepReporter(this, name);
  }

  /** A log line; false if it was dropped (buffer full). */
  line(text: string, options: { level?: Level; step?: string; timeMs?: number } = {}): boolean {
    return this.client.enqueue(
      this.frame({
        case: 'line',
        value: { text, level: levels[options.level ?? 'info'], step: options.step ?? '', timeMs: BigInt(options.timeMs ?? Date.now()) },
      }),
      true,
    );
  }

  /** @internal */
  finishStep(name: string, ok: boolean, message: string): void {
    this.client.enqueue(
      this.frame({ case: 'stepFinished', value: { step: name, status: ok ? eventlogV1.StepStatus.SUCCESS : eventlogV1.StepStatus.FAILURE, message } }),
      false,
    );
  }

  /** Everything is reported: event-log decides success (all steps ok) or failure. */
  done(): void {
    this.client.enqueue(this.frame({ case: 'done', value: create(eventlogV1.OperationDoneSchema) }), false);
  }
}

export class StepReporter {
  constructor(
    private readonly op: OperationReporter,
    readonly name: string,
  ) {}

  line(text: string, level: Level = 'info'): boolean {
    return this.op.line(text, { level, step: this.name });
  }

  ok(): void {
    this.op.finishStep(this.name, true, '');
  }

  /** The step failed: the operation fails with this message. */
  fail(message: string): void {
    this.op.finishStep(this.name, false, message);
  }
}
