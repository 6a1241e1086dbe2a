import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { EventLogConfig } from '../config';

/** What the ingest thread is started with (workerData). */
/** The settings, with the partition count in effect (claimed in the data dir by the main thread). */
export type IngestConfig = EventLogConfig & { WHARF_EVENTLOG_PARTITIONS: number };

export interface IngestThreadData {
  config: IngestConfig;
}

/** Control messages between the process's main (streaming) thread and its ingest thread. */
export type ToIngestControl = { t: 'start' } | { t: 'stop' } | { t: 'metrics-request'; id: number };

export type FromIngestControl =
  | { t: 'ready'; grpc: string }
  | { t: 'started'; partitions: number }
  | { t: 'stopped' }
  /** exitCode: what the process should exit with (70: storage failed, 1: anything else). */
  | { t: 'fatal'; message: string; exitCode: number }
  | { t: 'metrics'; id: number; json: MetricObjectWithValues<MetricValue<string>>[] };

export const isControl = (m: unknown): m is { t: string } => typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
