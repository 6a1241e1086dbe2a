import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { mqV1 } from '@wharf/contracts';
import { GrpcServer, InvalidArgumentError, type ServiceImpl } from '@wharf/grpc';
import type { Logger } from '@wharf/logging';
import type { TransportSecurity } from '@wharf/pki';
import { QueueService } from '../queue/queue.service';
import { GRPC_ADDRESS, LOGGER, SECURITY } from '../tokens';
import {
  checkPayload,
  checkRange,
  checkTaskId,
  checkTopic,
  MAX_ATTEMPTS_LIMIT,
  MAX_DELAY_MS,
  MAX_LEASE_MS,
  MAX_TASKS_PER_DEQUEUE,
  MAX_WAIT_MS,
  MIN_LEASE_MS,
  orDefault,
  RuleViolation,
} from '../domain/rules';

/** Rule violations become INVALID_ARGUMENT with the rule's message; everything else passes through the bridge's mapping. */
function validated<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RuleViolation) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

const CONSUMER = /^[A-Za-z0-9._:@-]{0,128}$/;

/** The MqService over gRPC: validation at the edge, then the queue. */
@Injectable()
export class MqGrpcService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  // Well above the payload limit, so an oversized payload gets INVALID_ARGUMENT naming the limit, not a transport error.
  private readonly server: GrpcServer;
  port = 0;

  constructor(
    private readonly queue: QueueService,
    @Inject(GRPC_ADDRESS) private readonly address: string,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SECURITY) security: TransportSecurity,
  ) {
    this.server = new GrpcServer({ security, logger, maxReceiveMessageBytes: 16 * 1024 * 1024 });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.server.add(mqV1.MqService, this.impl());
    this.port = await this.server.listen(this.address);
  }

  /** Before the queue closes etcd: end waits and streams, then let running calls (acks) finish. */
  async beforeApplicationShutdown(): Promise<void> {
    this.queue.drain();
    await this.server.shutdown(5000);
  }

  private leaseMs(value: number): number {
    const lease = orDefault(value, this.queue.settings.defaultLeaseMs);
    checkRange('lease_ms', lease, MIN_LEASE_MS, MAX_LEASE_MS);
    return lease;
  }

  private consumer(value: string, peer: string): string {
    if (!CONSUMER.test(value)) throw new RuleViolation(`consumer: must match ${CONSUMER.source}`);
    return value || peer;
  }

  impl(): ServiceImpl<typeof mqV1.MqService> {
    const q = this.queue;
    const m = q.metrics;
    return {
      enqueue: async (req) => {
        validated(() => {
          checkTopic(req.topic);
          checkTaskId(req.taskId);
          checkPayload(req.payload);
          if (req.eventId && !/^[A-Za-z0-9._:-]{1,128}$/.test(req.eventId)) throw new RuleViolation('event_id: must match [A-Za-z0-9._:-]{1,128}');
          checkRange('max_attempts', req.maxAttempts, 0, MAX_ATTEMPTS_LIMIT);
          checkRange('delay_ms', req.delayMs, 0, MAX_DELAY_MS);
        });
        const created = await q.enqueue(req);
        (created ? m.enqueued : m.duplicates).inc({ topic: req.topic });
        if (created) this.logger.debug({ event_id: req.eventId || undefined, topic: req.topic, task_id: req.taskId }, 'enqueued');
        return { created };
      },
      dequeue: async (req, ctx) => {
        const [lease, consumer] = validated(() => {
          checkTopic(req.topic);
          checkRange('wait_ms', req.waitMs, 0, MAX_WAIT_MS);
          checkRange('max_tasks', req.maxTasks, 0, MAX_TASKS_PER_DEQUEUE);
          return [this.leaseMs(req.leaseMs), this.consumer(req.consumer, ctx.peer)] as const;
        });
        const deliveries = await q.dequeue(req.topic, consumer, lease, orDefault(req.maxTasks, 1), req.waitMs, ctx.signal);
        return { deliveries };
      },
      subscribe: (req, ctx) => {
        const [lease, consumer] = validated(() => {
          checkTopic(req.topic);
          checkRange('max_in_flight', req.maxInFlight, 0, MAX_TASKS_PER_DEQUEUE);
          return [this.leaseMs(req.leaseMs), this.consumer(req.consumer, ctx.peer)] as const;
        });
        const source = q.subscribe(req.topic, consumer, lease, orDefault(req.maxInFlight, 1), ctx.signal);
        return (async function* () {
          for await (const delivery of source) yield { delivery };
        })();
      },
      ack: async (req) => {
        validated(
          () => (
            checkTopic(req.topic),
            checkTaskId(req.taskId),
            req.leaseId ||
              (() => {
                throw new RuleViolation('lease_id: must not be empty');
              })()
          ),
        );
        await q.store.ack(req.topic, req.taskId, req.leaseId);
        q.settled(req.topic, req.taskId);
        m.acked.inc({ topic: req.topic });
        return {};
      },
      nack: async (req) => {
        validated(() => {
          checkTopic(req.topic);
          checkTaskId(req.taskId);
          if (!req.leaseId) throw new RuleViolation('lease_id: must not be empty');
          checkRange('retry_after_ms', req.retryAfterMs, 0, MAX_DELAY_MS);
        });
        const res = await q.store.nack(req.topic, req.taskId, req.leaseId, req.reason, req.retryAfterMs);
        q.settled(req.topic, req.taskId);
        m.nacked.inc({ topic: req.topic });
        if (res.dead) m.dead.inc({ topic: req.topic });
        return { dead: res.dead, attempt: res.attempt, visibleAtMs: BigInt(res.visibleAtMs) };
      },
      extendLease: async (req) => {
        const lease = validated(() => {
          checkTopic(req.topic);
          checkTaskId(req.taskId);
          if (!req.leaseId) throw new RuleViolation('lease_id: must not be empty');
          return this.leaseMs(req.leaseMs);
        });
        return { leaseExpiresAtMs: BigInt(await q.store.extendLease(req.topic, req.taskId, req.leaseId, lease)) };
      },
      stats: async (req) => {
        validated(() => req.topics.forEach(checkTopic));
        return { topics: await q.store.stats(req.topics) };
      },
      listDead: async (req) => {
        validated(() => (checkTopic(req.topic), checkRange('limit', req.limit, 0, 1000)));
        return { tasks: await q.store.listDead(req.topic, orDefault(req.limit, 100)) };
      },
    };
  }
}
