import { create } from '@bufbuild/protobuf';
import { eventlogV1, eventsV1 } from '@wharf/contracts';
import type { OperationInfo } from '../domain/operation-info';
import type { EntryRecord } from '../domain/records';
import { entriesFromProto, entryFromProto, entryToProto, infoFromProto, infoToProto } from './proto-mappers';

describe('proto mappers', () => {
  const entries: EntryRecord[] = [
    { k: 'ss', e: 'op-1', s: 1, t: 1000, st: 'build' },
    { k: 'l', e: 'op-1', s: 2, t: 1001, lv: eventlogV1.LogLevel.WARN, st: 'build', x: 'hello', tm: 999 },
    { k: 'sf', e: 'op-1', s: 3, t: 1002, st: 'build', ok: false, m: 'boom' },
    { k: 'sf', e: 'op-1', s: 4, t: 1003, st: 'push', ok: true, m: '' },
    { k: 'f', e: 'op-1', s: 5, t: 1004, ss: eventsV1.OperationStatus.FAILURE, m: 'boom', fs: 'build' },
  ];

  it('round-trips every kind of entry', () => {
    expect(entries.map((e) => entryFromProto('op-1', entryToProto(e)))).toEqual(entries);
  });

  it('keeps 64-bit fields as bigint on the wire', () => {
    const wire = entryToProto(entries[1]);
    expect(wire.seq).toBe(2n);
    expect(wire.body.case === 'line' && wire.body.value.timeMs).toBe(999n);
  });

  it('leaves out entries with a body it does not know', () => {
    const unknown = create(eventlogV1.EntrySchema, { seq: 9n });
    expect(entryFromProto('op-1', unknown)).toBeUndefined();
    expect(entriesFromProto('op-1', [entryToProto(entries[0]), unknown])).toEqual([entries[0]]);
  });

  it('round-trips operation info', () => {
    const info: OperationInfo = {
      eventId: 'op-1',
      tenantId: 't1',
      target: 'component/c1',
      status: eventsV1.OperationStatus.RUNNING,
      message: '',
      failedStep: '',
      lastSeq: 42,
      firstMs: 1_700_000_000_000,
      lastMs: 1_700_000_000_500,
    };
    expect(infoFromProto(infoToProto(info))).toEqual(info);
    expect(infoToProto(info).lastSeq).toBe(42n);
  });
});
