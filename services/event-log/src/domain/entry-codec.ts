import { create } from '@bufbuild/protobuf';
import { eventlogV1, eventsV1 } from '@wharf/contracts';
import type { EntryRecord } from '../storage/records';

/** Timeline entry as socket.io and HTTP clients see it (JSON). */
export type WireEntry =
  | { seq: number; stored_ms: number; type: 'step_started'; step: string }
  | { seq: number; stored_ms: number; type: 'step_finished'; step: string; status: 'success' | 'failure'; message: string }
  | { seq: number; stored_ms: number; type: 'line'; time_ms: number; level: LevelName; step: string; text: string }
  | { seq: number; stored_ms: number; type: 'final'; status: StatusName; message: string; failed_step: string };

export type LevelName = 'debug' | 'info' | 'warn' | 'error';
export type StatusName = 'pending' | 'running' | 'success' | 'failure' | 'timeout' | 'unknown';

const levels: Record<number, LevelName> = { 1: 'debug', 2: 'info', 3: 'warn', 4: 'error' };
export const statusNames: Record<number, StatusName> = {
  [eventsV1.OperationStatus.PENDING]: 'pending',
  [eventsV1.OperationStatus.RUNNING]: 'running',
  [eventsV1.OperationStatus.SUCCESS]: 'success',
  [eventsV1.OperationStatus.FAILURE]: 'failure',
  [eventsV1.OperationStatus.TIMEOUT]: 'timeout',
};

export function toWire(r: EntryRecord): WireEntry {
  switch (r.k) {
    case 'ss':
      return { seq: r.s, stored_ms: r.t, type: 'step_started', step: r.st };
    case 'sf':
      return { seq: r.s, stored_ms: r.t, type: 'step_finished', step: r.st, status: r.ok ? 'success' : 'failure', message: r.m };
    case 'l':
      return { seq: r.s, stored_ms: r.t, type: 'line', time_ms: r.tm, level: levels[r.lv] ?? 'info', step: r.st, text: r.x };
    case 'f':
      return { seq: r.s, stored_ms: r.t, type: 'final', status: statusNames[r.ss] ?? 'unknown', message: r.m, failed_step: r.fs };
  }
}

export function toProto(r: EntryRecord): eventlogV1.Entry {
  const base = { seq: BigInt(r.s), storedMs: BigInt(r.t) };
  switch (r.k) {
    case 'ss':
      return create(eventlogV1.EntrySchema, { ...base, body: { case: 'stepStarted', value: { step: r.st } } });
    case 'sf':
      return create(eventlogV1.EntrySchema, {
        ...base,
        body: { case: 'stepFinished', value: { step: r.st, status: r.ok ? eventlogV1.StepStatus.SUCCESS : eventlogV1.StepStatus.FAILURE, message: r.m } },
      });
    case 'l':
      return create(eventlogV1.EntrySchema, { ...base, body: { case: 'line', value: { timeMs: BigInt(r.tm), level: r.lv, step: r.st, text: r.x } } });
    case 'f':
      return create(eventlogV1.EntrySchema, { ...base, body: { case: 'final', value: { status: r.ss, message: r.m, failedStep: r.fs } } });
  }
}

/** An entry read from another instance -> the local record shape (event id given by the caller). */
export function fromProto(eventId: string, e: eventlogV1.Entry): EntryRecord | undefined {
  const base = { e: eventId, s: Number(e.seq), t: Number(e.storedMs) };
  const b = e.body;
  switch (b.case) {
    case 'stepStarted':
      return { ...base, k: 'ss', st: b.value.step };
    case 'stepFinished':
      return { ...base, k: 'sf', st: b.value.step, ok: b.value.status === eventlogV1.StepStatus.SUCCESS, m: b.value.message };
    case 'line':
      return { ...base, k: 'l', lv: b.value.level, st: b.value.step, x: b.value.text, tm: Number(b.value.timeMs) };
    case 'final':
      return { ...base, k: 'f', ss: b.value.status, m: b.value.message, fs: b.value.failedStep };
    default:
      return undefined;
  }
}
