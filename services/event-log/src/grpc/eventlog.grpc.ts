import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { eventlogV1 } from '@wharf/contracts';
import { GrpcServer, invalidArgument, NotFoundError, ResourceExhaustedError, UnavailableError, type CallContext, type ServiceImpl } from '@wharf/grpc';
import type { Logger } from '@wharf/logging';
import type { TransportSecurity } from '@wharf/pki';
import type { Clock } from '@wharf/system';
import { validateFrame, type TaggedFrame } from '../domain/frames';
import { EVENT_ID, TARGET } from '../domain/identifiers';
import { RateLimiter } from '../domain/rate-limiter';
import type { EntryRecord } from '../domain/records';
import { EventLogEngine } from '../engine/event-log.engine';
import { EventLogMetrics } from '../metrics';
import { CLOCK, GRPC_ADDRESS, INGEST_LIMITS, LOGGER, SECURITY } from '../tokens';
import { FORWARDED } from './forwarded';
import { entryToProto, infoToProto } from './proto-mappers';

export interface IngestLimits {
  maxLineBytes: number;
  /** Frames a second per sender (producer, else peer address), and the burst. */
  ratePerSec: number;
  burst: number;
}

export const MAX_FRAMES_PER_REQUEST = 10_000;
const MAX_REJECTIONS_REPORTED = 100;
/** A Follow whose reader falls this far behind is ended; it resumes from its last seq. */
const MAX_FOLLOW_BACKLOG = 20_000;

/** EventLogService over gRPC: validation, per-sender rate limit, then the engine. */
@Injectable()
export class EventLogGrpcService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly server: GrpcServer;
  private readonly limiter: RateLimiter;
  port = 0;

  constructor(
    private readonly engine: EventLogEngine,
    private readonly metrics: EventLogMetrics,
    @Inject(GRPC_ADDRESS) private readonly address: string,
    @Inject(INGEST_LIMITS) private readonly limits: IngestLimits,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SECURITY) security: TransportSecurity,
    @Inject(CLOCK) clock: Clock,
  ) {
    this.server = new GrpcServer({ security, logger, maxReceiveMessageBytes: 16 * 1024 * 1024 });
    this.limiter = new RateLimiter(limits.ratePerSec, limits.burst, clock);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.server.add(eventlogV1.EventLogService, this.impl());
    this.port = await this.server.listen(this.address);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.server.shutdown(3000);
  }

  /** Splits a batch into valid frames and rejections (index offset for streams). */
  private validate(frames: eventlogV1.Frame[], offset = 0): { valid: TaggedFrame[]; rejected: eventlogV1.RejectedFrame[] } {
    const valid: TaggedFrame[] = [];
    const rejected: eventlogV1.RejectedFrame[] = [];
    frames.forEach((wire, i) => {
      const frame = validateFrame(wire, this.limits.maxLineBytes);
      if (typeof frame === 'string') rejected.push({ $typeName: 'wharf.eventlog.v1.RejectedFrame', index: offset + i, reason: frame });
      else {
        if (frame.body.kind === 'line' && frame.body.truncated) this.metrics.truncated.inc();
        valid.push({ frame, wire });
      }
    });
    if (rejected.length) {
      this.metrics.rejected.inc(rejected.length);
      this.logger.debug({ rejected: rejected.length, first: rejected[0].reason }, 'malformed frames refused');
    }
    return { valid, rejected };
  }

  /**
   * A call another instance forwarded (already admitted and validated there, not to be
   * forwarded again). With mutual TLS only event-log's own certificate may say so: anyone
   * else setting the header would skip the rate limit.
   */
  private forwarded(ctx: CallContext): boolean {
    return ctx.metadata[FORWARDED] === '1' && (ctx.identity === undefined || ctx.identity === 'event-log');
  }

  private admit(frames: eventlogV1.Frame[], ctx: CallContext): void {
    if (this.forwarded(ctx)) return;
    if (frames.length > MAX_FRAMES_PER_REQUEST) throw invalidArgument('frames', `at most ${MAX_FRAMES_PER_REQUEST} per request, got ${frames.length}`);
    const sender = frames[0]?.producer || ctx.peer.replace(/:\d+$/, '');
    if (this.limiter.take(sender, frames.length)) return;
    this.metrics.rateLimited.inc();
    throw new ResourceExhaustedError(`rate limit: sender ${sender} is over ${this.limits.ratePerSec} frames/s; retry later`);
  }

  impl(): ServiceImpl<typeof eventlogV1.EventLogService> {
    const engine = this.engine;
    return {
      append: async (req, ctx) => {
        this.admit(req.frames, ctx);
        const { valid, rejected } = this.validate(req.frames);
        const totals = valid.length ? await engine.append(valid, this.forwarded(ctx)) : { accepted: 0, duplicates: 0 };
        this.metrics.accepted.inc(totals.accepted);
        this.metrics.duplicates.inc(totals.duplicates);
        return { accepted: totals.accepted, duplicates: totals.duplicates, rejected };
      },

      ingest: async (requests, ctx) => {
        let accepted = 0n;
        let duplicates = 0n;
        let rejected = 0n;
        let index = 0;
        const firstRejections: eventlogV1.RejectedFrame[] = [];
        // Batches are stored in order; a few are in flight at once so disk and network overlap.
        const inFlight = new Set<Promise<void>>();
        let failure: unknown;
        for await (const req of requests) {
          if (failure) throw failure;
          this.admit(req.frames, ctx);
          const { valid, rejected: bad } = this.validate(req.frames, index);
          index += req.frames.length;
          rejected += BigInt(bad.length);
          for (const r of bad) if (firstRejections.length < MAX_REJECTIONS_REPORTED) firstRejections.push(r);
          if (valid.length === 0) continue;
          const p = engine.append(valid, this.forwarded(ctx)).then(
            (t) => {
              accepted += BigInt(t.accepted);
              duplicates += BigInt(t.duplicates);
              this.metrics.accepted.inc(t.accepted);
            },
            (err) => void (failure ??= err),
          );
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
          if (inFlight.size >= 4) await Promise.race(inFlight);
        }
        await Promise.all(inFlight);
        if (failure) throw failure;
        return { accepted, duplicates, rejected, firstRejections };
      },

      read: async (req, ctx) => {
        if (!EVENT_ID.test(req.eventId)) throw invalidArgument('event_id', `must match ${EVENT_ID.source}`);
        const { info, entries, more } = await engine.read(req.eventId, Number(req.afterSeq), req.limit, this.forwarded(ctx));
        if (!info) throw new NotFoundError(`operation ${req.eventId} is unknown`);
        const last = entries.length ? entries[entries.length - 1].s : Number(req.afterSeq);
        return { operation: infoToProto(info), entries: entries.map(entryToProto), nextAfterSeq: BigInt(last), more };
      },

      follow: (req, ctx) => this.follow(req, ctx),

      listOperations: async (req) => {
        if (!TARGET.test(req.target)) throw invalidArgument('target', `must look like kind/id (${TARGET.source})`);
        if (req.cursor && !/^\d{1,9}$/.test(req.cursor)) throw invalidArgument('cursor', 'must be a next_cursor from a previous page');
        const { operations, nextCursor } = engine.listOperations(req.target, req.cursor, req.limit);
        return { operations: operations.map(infoToProto), nextCursor };
      },
    };
  }

  private async *follow(req: eventlogV1.FollowRequest, ctx: CallContext): AsyncIterable<eventlogV1.FollowResponse> {
    if (!EVENT_ID.test(req.eventId)) throw invalidArgument('event_id', `must match ${EVENT_ID.source}`);
    const queue: EntryRecord[][] = [];
    let queued = 0;
    let ended: string | undefined;
    let wake: (() => void) | undefined;
    const cancel = this.engine.follow(
      req.eventId,
      Number(req.afterSeq),
      {
        entries: (entries) => {
          queue.push(entries);
          queued += entries.length;
          if (queued > MAX_FOLLOW_BACKLOG) ended ??= 'follower too slow; resume from the last seq';
          wake?.();
        },
        end: (reason) => {
          ended ??= reason;
          wake?.();
        },
      },
      this.forwarded(ctx),
    );
    const onAbort = () => wake?.();
    ctx.signal.addEventListener('abort', onAbort);
    try {
      while (!ctx.signal.aborted) {
        if (queue.length) {
          const batch = queue.splice(0).flat();
          queued = 0;
          yield { $typeName: 'wharf.eventlog.v1.FollowResponse', entries: batch.map(entryToProto) };
          continue;
        }
        if (ended) throw new UnavailableError(ended);
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      cancel();
    }
  }
}
