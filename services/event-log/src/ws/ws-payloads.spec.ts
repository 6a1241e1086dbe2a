import { InvalidArgumentError } from '@wharf/errors';
import { LOGS_SUBSCRIBE, parsePayload, SUBSCRIBE, UNSUBSCRIBE, unknownEvent } from './ws-payloads';

function refusal(run: () => unknown): InvalidArgumentError {
  try {
    run();
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('socket.io payloads', () => {
  it('takes a subscribe with or without after_seq', () => {
    expect(parsePayload(SUBSCRIBE, { event_id: 'evt-1', after_seq: 5 })).toEqual({ event_id: 'evt-1', after_seq: 5 });
    expect(parsePayload(SUBSCRIBE, { event_id: 'evt-1' })).toEqual({ event_id: 'evt-1' });
  });

  it.each([['5'], [null], [true], [1.5], [-1], [Number.MAX_SAFE_INTEGER + 2], [[3]]])('refuses after_seq %p, naming it and what was sent', (bad) => {
    const err = refusal(() => parsePayload(SUBSCRIBE, { event_id: 'evt-1', after_seq: bad }));
    expect(err.field).toBe('after_seq');
    expect(err.message).toBe(`after_seq: must be a non-negative integer (the last seq received), or absent for 0, got ${JSON.stringify(bad)}`);
  });

  it('names a bad or missing event id', () => {
    expect(refusal(() => parsePayload(SUBSCRIBE, { event_id: 'bad id!' })).field).toBe('event_id');
    expect(refusal(() => parsePayload(UNSUBSCRIBE, {})).message).toMatch(/^event_id: must be an event id matching .*, got nothing$/);
  });

  it('names an unknown field and says what the payload takes', () => {
    const err = refusal(() => parsePayload(SUBSCRIBE, { event_id: 'evt-1', afterSeq: 3 }));
    expect(err.field).toBe('afterSeq');
    expect(err.message).toBe('afterSeq: unknown field; the payload takes event_id, after_seq');
  });

  it('refuses a payload that is not an object', () => {
    for (const bad of [undefined, null, 'evt-1', 7, ['evt-1']]) expect(refusal(() => parsePayload(SUBSCRIBE, bad)).field).toBe('payload');
  });

  it('checks tail of logs.subscribe: an integer 0-10000 or absent', () => {
    expect(parsePayload(LOGS_SUBSCRIBE, { component_id: 'c1' })).toEqual({ component_id: 'c1' });
    for (const bad of ['10', 10_001, -1, 2.5]) expect(refusal(() => parsePayload(LOGS_SUBSCRIBE, { component_id: 'c1', tail: bad })).field).toBe('tail');
  });

  it('an unknown event lists the known ones', () => {
    expect(unknownEvent('subscirbe')).toMatchObject({
      field: 'event',
      message: 'event: unknown event "subscirbe"; known events: subscribe, unsubscribe, logs.subscribe, logs.unsubscribe',
    });
  });
});
