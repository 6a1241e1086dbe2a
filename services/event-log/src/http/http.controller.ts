import { Controller, Get, Header, Headers, HttpException, HttpStatus, Inject, Param, Query } from '@nestjs/common';
import type { Principal } from '@wharf/identity';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { statusNames, toWire } from '../domain/entry-codec';
import { EVENT_ID, TARGET } from '../domain/operation-rules';
import type { OperationInfo } from '../engine/event-log.engine';
import type { Authenticator } from '../feed/catalog';
import { EventLogMetrics } from '../metrics';
import { OPERATION_LOG, type OperationLog } from '../threads/operation-log';
import { AUTHENTICATOR } from '../ws/eventlog.gateway';

export const INGEST_METRICS = Symbol('ingest-metrics');
/** The ingest thread's metrics (prom-client JSON), merged into /metrics. */
export type IngestMetricsSource = () => Promise<MetricObjectWithValues<MetricValue<string>>[]>;

function problem(status: HttpStatus, code: string, message: string): HttpException {
  return new HttpException({ error: { code, message } }, status);
}

function intParam(name: string, raw: string | undefined, def: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  if (!/^\d{1,15}$/.test(raw) || Number(raw) > max) throw problem(HttpStatus.BAD_REQUEST, 'invalid_argument', `${name}: must be an integer 0-${max}`);
  return Number(raw);
}

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
    const partitions = await this.operations.ownedPartitions().catch((err: Error) => {
      throw problem(HttpStatus.SERVICE_UNAVAILABLE, 'unavailable', err.message);
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
    if (!EVENT_ID.test(eventId)) throw problem(HttpStatus.BAD_REQUEST, 'invalid_argument', `event_id: must match ${EVENT_ID.source}`);
    const afterSeq = intParam('after_seq', afterRaw, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam('limit', limitRaw, 500, 5000);
    const { info, entries, more } = await this.operations.read(eventId, afterSeq, limit || 500).catch((err: Error) => {
      throw problem(HttpStatus.SERVICE_UNAVAILABLE, 'unavailable', err.message);
    });
    if (!info || !this.auth.canRead(principal, info.tenantId)) throw problem(HttpStatus.NOT_FOUND, 'not_found', `operation ${eventId} not found`);
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
    if (!target || !TARGET.test(target)) throw problem(HttpStatus.BAD_REQUEST, 'invalid_argument', `target: must look like kind/id, e.g. component/<id>`);
    if (cursor && !/^\d{1,9}$/.test(cursor)) throw problem(HttpStatus.BAD_REQUEST, 'invalid_argument', 'cursor: must be a next_cursor from a previous page');
    const limit = intParam('limit', limitRaw, 50, 500);
    const { operations, nextCursor } = await this.operations.listOperations(target, cursor ?? '', limit).catch((err: Error) => {
      throw problem(HttpStatus.SERVICE_UNAVAILABLE, 'unavailable', err.message);
    });
    // A target belongs to one tenant: if the caller cannot read it, it does not exist for them.
    const visible = operations.filter((o) => this.auth.canRead(principal, o.tenantId));
    if (operations.length && visible.length === 0) throw problem(HttpStatus.NOT_FOUND, 'not_found', `${target} not found`);
    return { operations: visible.map(view), next_cursor: nextCursor || null };
  }

  private principal(authorization: string | undefined): Principal {
    const p = this.auth.authenticate(authorization);
    if (!p) throw problem(HttpStatus.UNAUTHORIZED, 'unauthenticated', 'missing or invalid bearer token');
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
