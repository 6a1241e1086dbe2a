import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { assertStreamName, fold, type ProjectionDefinition, type RecordedEvent } from './index';
import { prefixEnd } from './prefix';

describe('event store pure parts', () => {
  it('accepts kind/id stream names and names what is wrong otherwise', () => {
    expect(() => assertStreamName('component/3f1c-a.b:c')).not.toThrow();
    for (const bad of ['', 'component', 'component/', '/x', 'Comp/x', 'component/a/b', 'component/-x', `component/${'a'.repeat(201)}`]) {
      expect(() => assertStreamName(bad)).toThrow(/must look like kind\/id/);
    }
  });

  it('computes the etcd range end of a prefix', () => {
    expect(prefixEnd('/w/es/ev/').toString()).toBe('/w/es/ev0');
    expect(prefixEnd('a\u00ff').equals(Buffer.from([0x61, 0xc3, 0xc0]))).toBe(true);
  });

  it('folds events with the same definition a live projection uses', () => {
    const count: ProjectionDefinition<Record<string, number>> = {
      name: 'count',
      initial: () => ({}),
      apply: (s, e) => ({ ...s, [e.stream]: (s[e.stream] ?? 0) + 1 }),
    };
    const ev = (stream: string, version: number): RecordedEvent => ({
      stream,
      version,
      type: 'wharf.events.v1.OperationRequested',
      message: create(eventsV1.OperationRequestedSchema),
      timeMs: 0,
      eventId: '',
      actor: '',
      position: String(version),
    });
    expect(fold(count, [ev('app/a', 1), ev('app/b', 1), ev('app/a', 2)])).toEqual({ 'app/a': 2, 'app/b': 1 });
  });
});
