import { create } from '@bufbuild/protobuf';
import { eventlogV1 } from '@wharf/contracts';
import type { OperationInfo } from '../domain/operation-info';
import type { EntryRecord } from '../domain/records';

// Between the engine's shapes and wharf.eventlog.v1 messages: the gRPC service answers with
// them, and the peer client reads other instances' answers back (64-bit fields as bigint).

export function entryToProto(r: EntryRecord): eventlogV1.Entry {
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

/** An entry read from another instance -> the local record shape (event id given by the caller); undefined for an unknown body. */
export function entryFromProto(eventId: string, e: eventlogV1.Entry): EntryRecord | undefined {
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

/** Entries of one operation from another instance, unknown bodies left out. */
export function entriesFromProto(eventId: string, entries: eventlogV1.Entry[]): EntryRecord[] {
  const out: EntryRecord[] = [];
  for (const e of entries) {
    const r = entryFromProto(eventId, e);
    if (r) out.push(r);
  }
  return out;
}

export function infoFromProto(o: eventlogV1.OperationInfo): OperationInfo {
  return {
    eventId: o.eventId,
    tenantId: o.tenantId,
    target: o.target,
    status: o.status,
    message: o.message,
    failedStep: o.failedStep,
    lastSeq: Number(o.lastSeq),
    firstMs: Number(o.firstMs),
    lastMs: Number(o.lastMs),
  };
}

export function infoToProto(i: OperationInfo): eventlogV1.OperationInfo {
  return create(eventlogV1.OperationInfoSchema, {
    eventId: i.eventId,
    tenantId: i.tenantId,
    target: i.target,
    status: i.status,
    message: i.message,
    failedStep: i.failedStep,
    lastSeq: BigInt(i.lastSeq),
    firstMs: BigInt(i.firstMs),
    lastMs: BigInt(i.lastMs),
  });
}
