import type { Logger } from '@wharf/logging';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { isControl, type FromIngestControl, type IngestConfig, type IngestThreadData, type ToIngestControl } from './ingest-protocol';
import { OperationLogClient } from './operation-log-bridge';

export interface IngestThread {
  /** HOST:PORT of its gRPC server. */
  grpc: string;
  /** The engine on that thread, as the HTTP and socket.io side uses it. */
  operations: OperationLogClient;
  /** Takes this instance's partitions; resolves with how many it owns. */
  start(): Promise<number>;
  /** Stops gRPC, the engine and the feed, then the thread. */
  stop(): Promise<void>;
  metrics(): Promise<MetricObjectWithValues<MetricValue<string>>[]>;
}

/**
 * Starts the ingest thread (threads/ingest.main.ts) and resolves once its gRPC server answers.
 * onFatal: the thread failed for good (storage, feed, crash); the process should exit with the code.
 */
export function startIngestThread(config: IngestConfig, logger: Logger, onFatal: (message: string, exitCode: number) => void): Promise<IngestThread> {
  const worker = new Worker(join(__dirname, 'ingest.main.js'), { workerData: { config } satisfies IngestThreadData });
  const operations = new OperationLogClient(worker);
  const send = (m: ToIngestControl) => worker.postMessage(m);
  const waiting = new Map<string, { resolve: (m: FromIngestControl) => void; reject: (err: Error) => void }>();
  const metricsWaiting = new Map<number, (json: MetricObjectWithValues<MetricValue<string>>[]) => void>();
  let nextMetricsId = 1;
  let ready: { resolve: (grpc: string) => void; reject: (err: Error) => void } | undefined;
  let stopping = false;

  const fatal = (message: string, exitCode: number) => {
    operations.close(message);
    if (ready) return ready.reject(new Error(message));
    onFatal(message, exitCode);
  };
  worker.on('message', (m: unknown) => {
    if (!isControl(m)) return;
    const msg = m as FromIngestControl;
    switch (msg.t) {
      case 'ready':
        ready?.resolve(msg.grpc);
        ready = undefined;
        return;
      case 'metrics':
        metricsWaiting.get(msg.id)?.(msg.json);
        metricsWaiting.delete(msg.id);
        return;
      case 'fatal':
        logger.fatal({ thread: 'ingest' }, msg.message);
        fatal(msg.message, msg.exitCode);
        return;
      case 'started':
      case 'stopped':
        waiting.get(msg.t)?.resolve(msg);
        waiting.delete(msg.t);
        return;
    }
  });
  worker.on('error', (err) => {
    logger.fatal({ err, thread: 'ingest' }, 'ingest thread crashed');
    fatal(`ingest thread crashed: ${err.message}`, 1);
  });
  worker.on('exit', (code) => {
    operations.close('ingest thread stopped');
    if (!stopping) fatal(`ingest thread exited (${code})`, 1);
    for (const w of waiting.values()) w.reject(new Error(`ingest thread exited (${code})`));
    waiting.clear();
  });
  const expect = (t: 'started' | 'stopped') => new Promise<FromIngestControl>((resolve, reject) => waiting.set(t, { resolve, reject }));

  return new Promise<string>((resolve, reject) => (ready = { resolve, reject })).then((grpc) => ({
    grpc,
    operations,
    async start() {
      const started = expect('started');
      send({ t: 'start' });
      const m = await started;
      return m.t === 'started' ? m.partitions : 0;
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      const stopped = expect('stopped');
      send({ t: 'stop' });
      // A thread that died meanwhile has nothing left to stop.
      await stopped.catch(() => undefined);
      await worker.terminate();
    },
    metrics() {
      const id = nextMetricsId++;
      return new Promise((resolve) => {
        metricsWaiting.set(id, resolve);
        send({ t: 'metrics-request', id });
        // A thread too busy (or gone) to answer in time: /metrics still answers with the rest.
        setTimeout(() => {
          if (metricsWaiting.delete(id)) resolve([]);
        }, 2000).unref();
      });
    },
  }));
}
