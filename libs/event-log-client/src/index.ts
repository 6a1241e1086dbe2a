/**
 * @wharf/event-log-client: report an operation's steps and lines to event-log (gRPC), and
 * follow an operation's timeline live (socket.io).
 *  - new EventLogClient({ address, security }).operation(eventId, { target, tenantId }) -> step(name)
 *    (.line, .ok, .fail), line(text), done(); flush(), close(): batched, retried, bounded.
 *  - followOperation({ url, token, eventId, afterSeq, onEntries }): resumes after reconnects.
 */
export { EventLogClient, OperationReporter, StepReporter, type EventLogClientOptions, type Level } from './event-log-client';
export { followOperation, type FollowOptions, type Following, type TimelineEntry } from './follow-operation';
