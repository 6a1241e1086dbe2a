import { eventlogV1 } from '@wharf/contracts';
import { EVENT_ID, PRODUCER, STEP, TARGET } from './identifiers';
import { truncateLine } from './truncate-line';

/** A validated frame, as the store takes it. */
export interface IngestFrame {
  eventId: string;
  producer: string;
  producerSeq: number;
  target: string;
  tenantId: string;
  body:
    | { kind: 'step_started'; step: string }
    | { kind: 'step_finished'; step: string; ok: boolean; message: string }
    | { kind: 'line'; timeMs: number; level: number; step: string; text: string; truncated: boolean }
    | { kind: 'done' };
}

/** A validated frame with its wire form (forwarded to another instance as it came, not re-encoded). */
export interface TaggedFrame {
  frame: IngestFrame;
  wire: eventlogV1.Frame;
}

/** What an append stored: new frames, and retries recognised by (producer, producer_seq). */
export interface AppendTotals {
  accepted: number;
  duplicates: number;
}

export const MAX_MESSAGE_BYTES = 4096;

/** A wire frame -> IngestFrame, or the reason it is refused (never throws). */
export function validateFrame(f: eventlogV1.Frame, maxLineBytes: number): IngestFrame | string {
  if (!EVENT_ID.test(f.eventId)) return `event_id: must match ${EVENT_ID.source}`;
  if (!PRODUCER.test(f.producer)) return `producer: must match ${PRODUCER.source}`;
  if (f.producerSeq > BigInt(Number.MAX_SAFE_INTEGER)) return 'producer_seq: must be below 2^53';
  if (f.target && !TARGET.test(f.target)) return `target: must look like kind/id (${TARGET.source})`;
  if (f.tenantId && !EVENT_ID.test(f.tenantId)) return `tenant_id: must match ${EVENT_ID.source}`;
  const head = { eventId: f.eventId, producer: f.producer, producerSeq: Number(f.producerSeq), target: f.target, tenantId: f.tenantId };
  const b = f.body;
  switch (b.case) {
    case 'stepStarted':
      if (!STEP.test(b.value.step)) return `step_started.step: must match ${STEP.source}`;
      return { ...head, body: { kind: 'step_started', step: b.value.step } };
    case 'stepFinished': {
      if (!STEP.test(b.value.step)) return `step_finished.step: must match ${STEP.source}`;
      const status = b.value.status;
      if (status !== eventlogV1.StepStatus.SUCCESS && status !== eventlogV1.StepStatus.FAILURE)
        return 'step_finished.status: must be STEP_STATUS_SUCCESS or STEP_STATUS_FAILURE';
      return {
        ...head,
        body: {
          kind: 'step_finished',
          step: b.value.step,
          ok: status === eventlogV1.StepStatus.SUCCESS,
          message: truncateLine(b.value.message, MAX_MESSAGE_BYTES).text,
        },
      };
    }
    case 'line': {
      const l = b.value;
      if (l.step && !STEP.test(l.step)) return `line.step: must match ${STEP.source}`;
      if (l.level < 0 || l.level > eventlogV1.LogLevel.ERROR) return 'line.level: unknown LogLevel';
      const { text, truncated } = truncateLine(l.text, maxLineBytes);
      const timeMs = Number(l.timeMs);
      if (!Number.isSafeInteger(timeMs) || timeMs < 0) return 'line.time_ms: must be a non-negative ms timestamp';
      return { ...head, body: { kind: 'line', timeMs, level: l.level || eventlogV1.LogLevel.INFO, step: l.step, text, truncated } };
    }
    case 'done':
      return { ...head, body: { kind: 'done' } };
    default:
      return 'frame: has no body (step_started, step_finished, line or done)';
  }
}
