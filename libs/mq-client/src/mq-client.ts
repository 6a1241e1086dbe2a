import { mqV1 } from '@wharf/contracts';
import { CancelledError, createClient, FailedPreconditionError, NotFoundError, type ServiceClient } from '@wharf/grpc';
import type { TransportSecurity } from '@wharf/pki';

export type MqClient = ServiceClient<typeof mqV1.MqService>;
export type MqTask = mqV1.Task;

/** A typed client of the mq service (close() it when done), as the identity of `security`'s certificate. */
export function createMqClient(address: string, security: TransportSecurity): MqClient {
  return createClient(mqV1.MqService, address, { security });
}

export interface TaskContext {
  /** Aborted when consume() is stopping or the lease was lost (another consumer may get the task). */
  readonly signal: AbortSignal;
  readonly leaseId: string;
}

export interface ConsumeOptions {
  /** Name shown as the lease holder (default: host process id). */
  consumer?: string;
  /** Lease per task; consume() renews it while the handler runs. Default 30 s. */
  leaseMs?: number;
  /** Tasks handled at once (the stream's max_in_flight). Default 1. */
  concurrency?: number;
  /** Stops consuming; handlers see it through their context. */
  signal?: AbortSignal;
  /** Told about failures that consume() survives (stream lost, ack refused, handler errors). */
  onError?: (err: unknown, task?: MqTask) => void;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });

/**
 * Handles tasks of a topic until the signal aborts: holds a Subscribe stream, runs the
 * handler for each delivery, renews the lease while it runs, acks when it resolves and
 * nacks (retry with back-off, dead letter after max attempts) when it throws. A lost
 * stream (mq restart) is re-opened with back-off. Delivery is at-least-once: handlers
 * must be idempotent by task id. Resolves once stopped and every running handler settled.
 */
export async function consume(
  client: MqClient,
  topic: string,
  handler: (task: MqTask, ctx: TaskContext) => Promise<void>,
  options: ConsumeOptions = {},
): Promise<void> {
  const leaseMs = options.leaseMs ?? 30_000;
  const consumer = options.consumer ?? `pid-${process.pid}`;
  const stop = options.signal ?? new AbortController().signal;
  const report = options.onError ?? (() => undefined);
  const running = new Set<Promise<void>>();
  let failures = 0;

  const handle = async (delivery: mqV1.Delivery) => {
    const task = delivery.task!;
    const lease = { topic, taskId: task.taskId, leaseId: delivery.leaseId };
    const lost = new AbortController();
    const onStop = () => lost.abort();
    stop.addEventListener('abort', onStop, { once: true });
    const renew = setInterval(
      () => {
        client.extendLease({ ...lease, leaseMs }).catch((err) => {
          if (err instanceof FailedPreconditionError || err instanceof NotFoundError) lost.abort();
          report(err, task);
        });
      },
      Math.max(100, Math.floor(leaseMs / 3)),
    );
    let failure: unknown;
    try {
      await handler(task, { signal: lost.signal, leaseId: delivery.leaseId });
    } catch (err) {
      failure = err ?? new Error('handler failed');
    } finally {
      clearInterval(renew);
      stop.removeEventListener('abort', onStop);
    }
    try {
      if (failure === undefined) {
        await client.ack(lease);
      } else {
        report(failure, task);
        if (lost.signal.aborted && !stop.aborted) return; // the lease is gone: nothing to give back
        const reason = failure instanceof Error ? failure.message : String(failure);
        // Stopping: hand it back for another consumer at once (the attempt still counts).
        await client.nack({ ...lease, reason, retryAfterMs: stop.aborted ? 1 : 0 });
      }
    } catch (err) {
      report(err, task); // e.g. the lease expired meanwhile: the task is someone else's now
    }
  };

  while (!stop.aborted) {
    try {
      const stream = client.subscribe({ topic, consumer, leaseMs, maxInFlight: options.concurrency ?? 1 }, { signal: stop });
      for await (const { delivery } of stream) {
        failures = 0;
        if (!delivery?.task) continue;
        const p = handle(delivery).finally(() => running.delete(p));
        running.add(p);
      }
    } catch (err) {
      if (stop.aborted && err instanceof CancelledError) break;
      report(err);
    }
    // The stream ended (mq went away): open it again, backing off up to 5 s.
    await sleep(Math.min(5000, 100 * 2 ** failures++), stop);
  }
  await Promise.allSettled([...running]);
}
