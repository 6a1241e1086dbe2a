import { create, type Message } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { ConcurrencyError, type EventStore } from '@wharf/event-store';
import type { FinalDecision } from '../../domain/final-status';
import type { PublishResult, StatusPublisher } from './status-publisher';

/**
 * Appends OperationStarted / OperationFinished to the operation's target stream exactly once,
 * whoever tries and however often: it reads the stream after the operation's request, returns
 * 'already' if the event is there, and otherwise appends at the version it read, so a
 * concurrent writer (an old owner of the partition, a retry) makes the append fail and the
 * check run again rather than writing twice.
 */
export class EventStoreStatusPublisher implements StatusPublisher {
  constructor(
    private readonly store: EventStore,
    private readonly actor = 'service:event-log',
  ) {}

  finished(target: string, fromVersion: number, eventId: string, decision: FinalDecision): Promise<PublishResult> {
    return this.appendOnce(
      target,
      fromVersion,
      eventId,
      create(eventsV1.OperationFinishedSchema, { eventId, status: decision.status, message: decision.message, failedStep: decision.failedStep }),
    );
  }

  started(target: string, fromVersion: number, eventId: string): Promise<PublishResult> {
    return this.appendOnce(target, fromVersion, eventId, create(eventsV1.OperationStartedSchema, { eventId }));
  }

  private async appendOnce(stream: string, fromVersion: number, eventId: string, message: Message & { eventId: string }): Promise<PublishResult> {
    for (;;) {
      const version = await this.store.version(stream);
      // Never create a stream: an operation's target exists before its OperationRequested.
      if (version === 0) return 'no-stream';
      const events = await this.store.read(stream, Math.max(1, fromVersion));
      if (events.some((e) => e.type === message.$typeName && (e.message as Message & { eventId?: string }).eventId === eventId)) return 'already';
      const at = events.length ? events[events.length - 1].version : version;
      try {
        await this.store.append(stream, [{ message, eventId, actor: this.actor }], at);
        return 'appended';
      } catch (err) {
        if (!(err instanceof ConcurrencyError)) throw err;
      }
    }
  }
}
