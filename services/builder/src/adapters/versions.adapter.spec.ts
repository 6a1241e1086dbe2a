import { create, type Message } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { ConcurrencyError, type EventStore, type NewEvent, type RecordedEvent } from '@wharf/event-store';
import { ComponentGoneError, VersionsAdapter } from './versions.adapter';

/** The two calls the adapter makes, over one in-memory stream per name, with the store's version check. */
class FakeStore {
  readonly streams = new Map<string, RecordedEvent[]>();
  reads = 0;
  async read(stream: string, fromVersion = 1, limit = 1000): Promise<RecordedEvent[]> {
    this.reads++;
    return (this.streams.get(stream) ?? []).filter((e) => e.version >= fromVersion).slice(0, limit);
  }
  async append(stream: string, events: NewEvent[], expected: number | 'any') {
    const list = this.streams.get(stream) ?? [];
    if (expected !== 'any' && expected !== list.length) throw new ConcurrencyError(stream, expected, list.length);
    for (const e of events) {
      const message = e.message as Message;
      list.push({
        stream,
        version: list.length + 1,
        type: message.$typeName,
        message,
        timeMs: 0,
        eventId: e.eventId ?? '',
        actor: '',
        position: '0',
      } as RecordedEvent);
    }
    this.streams.set(stream, list);
    return { version: list.length, position: '0' };
  }
  asStore(): EventStore {
    return this as unknown as EventStore;
  }
}

const id = 'acme.shop.api';
const created = create(eventsV1.ComponentCreatedSchema, { componentId: id, spec: { name: 'api', ports: [{ port: 3000 }] } });
const version = (buildEventId: string) => ({ componentId: id, buildEventId, versionId: `v-${buildEventId}`, image: 'reg/x:1', status: 'success' });

describe('VersionsAdapter', () => {
  it('records with the version facts() read without reading the stream again', async () => {
    const store = new FakeStore();
    await store.append(`component/${id}`, [{ message: created }], 0);
    const versions = new VersionsAdapter(store.asStore());
    const facts = await versions.facts(id, 'evt-1');
    expect(facts).toMatchObject({ exists: true, streamVersion: 1 });
    const reads = store.reads;
    expect(await versions.record(version('evt-1'), facts.streamVersion)).toMatchObject({ appended: true });
    expect(store.reads).toBe(reads);
    expect(store.streams.get(`component/${id}`)!.map((e) => e.type)).toEqual(['wharf.events.v1.ComponentCreated', 'wharf.events.v1.VersionRecorded']);
  });

  it('reads again when the stream moved since facts(): records once, and never for a deleted component', async () => {
    const store = new FakeStore();
    await store.append(`component/${id}`, [{ message: created }], 0);
    const versions = new VersionsAdapter(store.asStore());
    const facts = await versions.facts(id, 'evt-1');
    // Another builder recorded this build meanwhile (a redelivery): that version is the answer, nothing is appended.
    await versions.record(version('evt-1'));
    expect(await versions.record(version('evt-1'), facts.streamVersion)).toMatchObject({ appended: false, version: { versionId: 'v-evt-1' } });
    expect(store.streams.get(`component/${id}`)).toHaveLength(2);

    const before = await versions.facts(id, 'evt-2');
    await store.append(`component/${id}`, [{ message: create(eventsV1.ComponentDeletedSchema, { componentId: id }) }], 'any');
    await expect(versions.record(version('evt-2'), before.streamVersion)).rejects.toBeInstanceOf(ComponentGoneError);
    expect(store.streams.get(`component/${id}`)).toHaveLength(3);
  });
});
