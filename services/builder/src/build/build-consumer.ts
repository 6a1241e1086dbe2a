import type { tasksV1 } from '@wharf/contracts';
import { InvalidArgumentError } from '@wharf/errors';
import type { EventLogClient } from '@wharf/event-log-client';
import type { Logger } from '@wharf/logging';
import { consume, type MqClient, type MqTask } from '@wharf/mq-client';
import { decodeTask, topicOf } from '@wharf/tasks';
import { operationLog } from '../adapters/event-log.adapter';
import type { BuilderMetrics } from '../http/metrics';
import type { BuildService } from './build.service';

export interface ConsumerOptions {
  concurrency: number;
  leaseMs: number;
  consumer?: string;
}

/** The task could not be handled by this instance (stopping, lease lost): mq gives it to another. */
export class HandedBackError extends Error {}

/**
 * Takes build tasks from mq (topic "build"), up to `concurrency` at once, and runs each
 * through the BuildService. A task is acked once its outcome is reported (a failed build is an
 * outcome: the same input would fail again); a build abandoned because this instance stops
 * goes back to the queue for another builder. mq renews the lease while the build runs, so a
 * builder that dies (kill -9) loses its tasks after one lease time and another one builds
 * them; the build's version id comes from its event id and is recorded once.
 */
export class BuildConsumer {
  private readonly stop = new AbortController();
  private running?: Promise<void>;
  /** Builds running here by event id: a second delivery of one (its lease expired on a busy machine) waits for the first. */
  private readonly building = new Map<string, Promise<unknown>>();

  constructor(
    private readonly mq: MqClient,
    private readonly service: BuildService,
    private readonly eventLog: EventLogClient,
    private readonly logger: Logger,
    private readonly metrics: BuilderMetrics,
    private readonly options: ConsumerOptions,
  ) {}

  start(): void {
    this.running = consume(this.mq, topicOf('build'), (task, ctx) => this.handle(task, ctx.signal), {
      concurrency: this.options.concurrency,
      leaseMs: this.options.leaseMs,
      consumer: this.options.consumer,
      signal: this.stop.signal,
      onError: (err, task) => {
        if (err instanceof HandedBackError) return;
        this.logger.warn({ err, event_id: task?.eventId }, 'build consumer');
      },
    });
  }

  /** Stops taking tasks; running builds are abandoned (handed back) and this resolves when they are. */
  async close(): Promise<void> {
    this.stop.abort();
    await this.running;
  }

  private async handle(task: MqTask, signal: AbortSignal): Promise<void> {
    const started = Date.now();
    let build: tasksV1.BuildTask;
    try {
      const decoded = decodeTask(task.payload, task.topic);
      if (decoded.kind.case !== 'build') throw new InvalidArgumentError(`a ${decoded.kind.case} task on the build topic`);
      build = decoded.kind.value;
    } catch (err) {
      // Unreadable: report it under the mq task's event id and drop it (retrying cannot help).
      this.logger.warn({ err, event_id: task.eventId }, 'unreadable build task');
      if (task.eventId) {
        const op = this.eventLog.operation(task.eventId);
        op.step('clone').fail(`the build task cannot be read: ${(err as Error).message}`);
        op.done();
        await this.eventLog.flush();
      }
      this.metrics.builds.inc({ outcome: 'unreadable' });
      return;
    }
    const log = this.logger.child({ event_id: build.eventId, component_id: build.componentId });
    const earlier = this.building.get(build.eventId);
    if (earlier) {
      log.warn({ attempt: task.attempt }, 'delivered again while this instance still builds it; waiting for that build');
      await earlier.catch(() => undefined);
    }
    let settle!: () => void;
    const mine = new Promise<void>((resolve) => (settle = resolve));
    this.building.set(build.eventId, mine);
    log.info({ attempt: task.attempt }, 'build started');
    this.metrics.running.inc();
    try {
      const outcome = await this.service.run(build, {
        log: operationLog(this.eventLog, build),
        signal,
        lastAttempt: task.maxAttempts > 0 && task.attempt >= task.maxAttempts,
      });
      // The timeline is on event-log's disk before the task is acked.
      await this.eventLog.flush();
      this.metrics.builds.inc({ outcome: outcome.kind });
      this.metrics.duration.observe({ outcome: outcome.kind }, (Date.now() - started) / 1000);
      switch (outcome.kind) {
        case 'failed':
          this.metrics.failures.inc({ step: outcome.step });
          log.info({ step: outcome.step, reason: outcome.reason }, 'build failed');
          return;
        case 'abandoned':
          log.info('build abandoned (stopping or lease lost); another builder takes it');
          throw new HandedBackError('abandoned');
        case 'retry':
          log.warn({ step: outcome.step, reason: outcome.reason, attempt: task.attempt }, 'the data center failed during the build; mq retries it');
          throw new HandedBackError(outcome.reason);
        case 'recorded':
        case 'already-recorded':
          log.info({ version_id: outcome.versionId, deploying: outcome.deploying }, 'build recorded');
          return;
      }
    } finally {
      this.metrics.running.dec();
      if (this.building.get(build.eventId) === mine) this.building.delete(build.eventId);
      settle();
    }
  }
}
