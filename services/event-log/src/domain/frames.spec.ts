import { create } from '@bufbuild/protobuf';
import { eventlogV1 } from '@wharf/contracts';
import { validateFrame } from './frames';

const frame = (init: Parameters<typeof create<typeof eventlogV1.FrameSchema>>[1]) => create(eventlogV1.FrameSchema, init);

describe('validateFrame', () => {
  it('accepts a line and truncates an over-long one', () => {
    const ok = validateFrame(frame({ eventId: 'evt-1', body: { case: 'line', value: { text: 'z'.repeat(50) } } }), 20);
    expect(ok).toMatchObject({ eventId: 'evt-1', body: { kind: 'line', truncated: true, level: eventlogV1.LogLevel.INFO } });
  });

  it.each([
    [frame({ eventId: '', body: { case: 'done', value: {} } }), 'event_id'],
    [frame({ eventId: 'bad id!', body: { case: 'done', value: {} } }), 'event_id'],
    [frame({ eventId: 'e', body: { case: undefined } }), 'no body'],
    [frame({ eventId: 'e', body: { case: 'stepStarted', value: { step: '' } } }), 'step_started.step'],
    [frame({ eventId: 'e', body: { case: 'stepFinished', value: { step: 's', status: eventlogV1.StepStatus.UNSPECIFIED } } }), 'step_finished.status'],
    [frame({ eventId: 'e', body: { case: 'line', value: { level: 99 as eventlogV1.LogLevel } } }), 'line.level'],
    [frame({ eventId: 'e', target: 'nope', body: { case: 'done', value: {} } }), 'target'],
    [frame({ eventId: 'e', producerSeq: 1n << 60n, body: { case: 'done', value: {} } }), 'producer_seq'],
  ])('refuses %#, naming the field', (f, field) => {
    const r = validateFrame(f, 100);
    expect(typeof r).toBe('string');
    expect(r).toContain(field);
  });
});
