import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ReadinessProbe } from './domain/readiness';

/** Prometheus metrics of one event-log instance. */
@Injectable()
export class EventLogMetrics {
  readonly registry = new Registry();
  readonly accepted = new Counter({ name: 'wharf_eventlog_frames_accepted_total', help: 'Frames stored (durable before the ack)', registers: [this.registry] });
  readonly duplicates = new Counter({
    name: 'wharf_eventlog_frames_duplicate_total',
    help: 'Frames recognised as retries and not stored again',
    registers: [this.registry],
  });
  readonly rejected = new Counter({ name: 'wharf_eventlog_frames_rejected_total', help: 'Malformed frames refused', registers: [this.registry] });
  readonly truncated = new Counter({ name: 'wharf_eventlog_lines_truncated_total', help: 'Lines cut to the length limit', registers: [this.registry] });
  readonly rateLimited = new Counter({
    name: 'wharf_eventlog_rate_limited_total',
    help: 'Requests refused by the per-sender rate limit',
    registers: [this.registry],
  });
  readonly subscribers = new Gauge({ name: 'wharf_eventlog_socket_subscriptions', help: 'socket.io subscriptions to operations', registers: [this.registry] });
  readonly streamingLoad = new Gauge({
    name: 'wharf_eventlog_streaming_loop_utilisation',
    help: 'Event-loop utilisation of the HTTP/socket.io thread over the last 250 ms (0-1)',
    registers: [this.registry],
  });
  readonly loadBatch = new Gauge({
    name: 'wharf_eventlog_load_batch_ms',
    help: 'Extra spacing between socket.io broadcasts of one room from load, right now (ms)',
    registers: [this.registry],
  });
  readonly emitted = new Counter({ name: 'wharf_eventlog_entries_emitted_total', help: 'Entries broadcast to socket.io rooms', registers: [this.registry] });
  readonly catchUp = new Histogram({
    name: 'wharf_eventlog_catchup_seconds',
    help: 'Time to catch a subscriber up to the live stream',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly broadcastDelay = new Histogram({
    name: 'wharf_eventlog_broadcast_delay_seconds',
    help: 'From an entry being accepted to its socket.io broadcast (group commit + batching + queueing)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly handoff = new Histogram({
    name: 'wharf_eventlog_stream_handoff_seconds',
    help: 'From the ingest thread posting committed entries to the socket.io thread taking them (that thread being busy)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly commit = new Histogram({
    name: 'wharf_eventlog_commit_seconds',
    help: 'Group commits: one durable (O_DSYNC) write of everything queued (acks wait for it)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly commitRecords = new Counter({
    name: 'wharf_eventlog_committed_records_total',
    help: 'Records made durable by group commits',
    registers: [this.registry],
  });
  private partitionsSource: () => number = () => 0;
  private readinessSource?: ReadinessProbe;

  /** defaultMetrics: process-wide figures (CPU, memory, event loop); one thread of the process collects them. */
  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'wharf_eventlog_' });
    const source = () => this.partitionsSource();
    const readiness = () => this.readinessSource;
    new Gauge({
      name: 'wharf_eventlog_ready',
      help: '1 when this instance can take appends for every partition (each open here or owned by an instance that answers) and etcd answers, else 0',
      registers: [this.registry],
      async collect() {
        const probe = readiness();
        this.set(probe && (await probe()).ready ? 1 : 0);
      },
    });
    new Gauge({
      name: 'wharf_eventlog_partitions_owned',
      help: 'Partitions this instance owns',
      registers: [this.registry],
      collect() {
        this.set(source());
      },
    });
  }

  bindPartitions(source: () => number): void {
    this.partitionsSource = source;
  }

  /** The thread that knows readiness (the main thread, through the bridge) reports it; the other reports 0. */
  bindReadiness(probe: ReadinessProbe): void {
    this.readinessSource = probe;
  }
}
