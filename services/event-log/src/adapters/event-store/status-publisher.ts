import type { FinalDecision } from '../../domain/final-status';

export type PublishResult = 'appended' | 'already' | 'no-stream';

/** Appends an operation's OperationStarted / OperationFinished to its target stream, each exactly once. */
export interface StatusPublisher {
  started(target: string, fromVersion: number, eventId: string): Promise<PublishResult>;
  finished(target: string, fromVersion: number, eventId: string, decision: FinalDecision): Promise<PublishResult>;
}
