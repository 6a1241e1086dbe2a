import { Controller, Get, Header, Headers, Inject, Param, Query } from '@nestjs/common';
import { invalidArgument, NotFoundError, UnauthenticatedError } from '@wharf/errors';
import type { Principal } from '@wharf/identity';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { Authenticator } from '../adapters/feed/authenticator';
import { EVENT_ID, TARGET } from '../domain/identifiers';
import type { OperationInfo } from '../domain/operation-info';
import { statusNames, toWire } from '../domain/wire-entry';
import { EventLogMetrics } from '../metrics';
import type { OperationLog } from '../threads/operation-log';
import { AUTHENTICATOR, INGEST_METRICS, OPERATION_LOG } from '../tokens';
import { httpProblem, intParam } from './http-problem';

/** The ingest thread's metrics (prom-client JSON), merged into /metrics. */
export type IngestMetricsSource = () => Promise<MetricObjectWithValues<MetricValue<string>>[]>;

/** /health, /metrics and the history API (same bearer tokens and tenant rights as the REST API). */
@Controller()
export class HttpController {
  constructor(
    @Inject(OPERATION_LOG) private readonly operations: OperationLog,
    private readonly metrics: EventLogMetrics,
    @Inject(INGEST_METRICS) private readonly ingestMetrics: IngestMetricsSource,
    @Inject(AUTHENTICATOR) private readonly auth: Authenticator,
  ) {}

  @Get('health')
  async health(): Promise<{ status: string; partitions: number[] }> {
    const partitions = await this.operations.ownedPartitions().catch((err: unknown) => {
      throw httpProblem(err);
    });
    return { status: 'ok', partitions };
  }

  /** Both threads' metrics in one text: each metric is defined on one of them (the other reports zero). */
  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  async metricsText(): Promise<string> {
    const [streaming, ingest] = await Promise.all([this.metrics.registry.getMetricsAsJSON(), this.ingestMetrics().catch(() => [])]);
    return AggregatorRegistry.aggregate([streaming, ingest]).metrics();
  }

  /** A page of an operation's timeline: entries with seq > after_seq. */
  @Get('api/v1/operations/:eventId/entries')
  async entries(
    @Headers('authorization') authorization: string | undefined,
    @Param('eventId') eventId: string,
    @Query('after_seq') afterRaw?: string,
    @Query('limit') limitRaw?: string,
  ) {
    const principal = this.principal(authorization);
    if (!EVENT_ID.test(eventId)) throw httpProblem(invalidArgument('event_id', `must match ${EVENT_ID.source}`));
    const afterSeq = intParam('after_seq', afterRaw, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam('limit', limitRaw, 500, 5000);
    const { info, entries, more } = await this.operations.read(eventId, afterSeq, limit || 500).catch((err: unknown) => {
      throw httpProblem(err);
    });
    if (!info || !this.auth.canRead(principal, info.tenantId)) throw httpProblem(new NotFoundError(`operation ${eventId} not found`));
    const last = entries.length ? entries[entries.length - 1].s : afterSeq;
    return { operation: view(info), entries: entries.map(toWire), next_after_seq: last, more };
  }

  /** Operations of a target (e.g. component/<id>), newest first. */
  @Get('api/v1/operations')
  async listOperations(
    @Headers('authorization') authorization: string | undefined,
    @Query('target') target?: string,
    @Query('cursor') cursor?: string,
    @Query('limit') limitRaw?: string,
  ) {
    const principal = this.principal(authorization);
    if (!target || !TARGET.test(target)) throw httpProblem(invalidArgument('target', 'must look like kind/id, e.g. component/<id>'));
    if (cursor && !/^\d{1,9}$/.test(cursor)) throw httpProblem(invalidArgument('cursor', 'must be a next_cursor from a previous page'));
    const limit = intParam('limit', limitRaw, 50, 500);
    const { operations, nextCursor } = await this.operations.listOperations(target, cursor ?? '', limit).catch((err: unknown) => {
      throw httpProblem(err);
    });
    // A target belongs to one tenant: if the caller cannot read it, it does not exist for them.
    const visible = operations.filter((o) => this.auth.canRead(principal, o.tenantId));
    if (operations.length && visible.length === 0) throw httpProblem(new NotFoundError(`${target} not found`));
    return { operations: visible.map(view), next_cursor: nextCursor || null };
  }

  private principal(authorization: string | undefined): Principal {
    const p = this.auth.authenticate(authorization);
    if (!p) throw httpProblem(new UnauthenticatedError('missing or invalid bearer token'));
    return p;
  }
}

function view(i: OperationInfo) {
  return {
    event_id: i.eventId,
    target: i.target,
    status: statusNames[i.status] ?? 'unknown',
    message: i.message || null,
    failed_step: i.failedStep || null,
    last_seq: i.lastSeq,
    first_ms: i.firstMs,
    last_ms: i.lastMs,
  };
}
