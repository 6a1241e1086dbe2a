import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { ConcurrencyError, type EventStore } from '@wharf/event-store';

export interface ComponentFacts {
  /** The stream exists and the component is not deleted. */
  exists: boolean;
  spec?: eventsV1.ComponentSpec;
  /** The version this build recorded earlier (a redelivered task), if any. */
  recorded?: eventsV1.VersionRecorded;
  /** The stream's version these facts were read at. */
  streamVersion?: number;
}

export type VersionInit = MessageInitShape<typeof eventsV1.VersionRecordedSchema>;

const streamOf = (componentId: string) => `component/${componentId}`;

/**
 * The component's stream in the event store, as far as builds need it: its spec (ports),
 * and the one VersionRecorded per build. Recording is read-check-append with the version
 * read, so two builders finishing the same task (a redelivery after a crash) record it once.
 */
export class VersionsAdapter {
  constructor(
    private readonly store: EventStore,
    private readonly actor = 'service:builder',
  ) {}

  async facts(componentId: string, buildEventId: string): Promise<ComponentFacts> {
    const { facts, streamVersion } = await this.read(componentId, buildEventId);
    return { ...facts, streamVersion };
  }

  /**
   * Appends the version unless this build already recorded one; answers the one that is in the
   * stream. `knownVersion` is the stream's version when facts() found the component existing
   * and this build unrecorded: the first append expects it, so an unchanged stream costs no
   * second read, and any append since (a change, a delete, another builder's record) makes it
   * fail and the stream is read and checked again.
   */
  async record(
    init: VersionInit & { componentId: string; buildEventId: string },
    knownVersion?: number,
  ): Promise<{ version: eventsV1.VersionRecorded; appended: boolean }> {
    for (let attempt = 1; ; attempt++) {
      let streamVersion: number;
      if (attempt === 1 && knownVersion !== undefined && knownVersion > 0) streamVersion = knownVersion;
      else {
        const read = await this.read(init.componentId, init.buildEventId);
        if (read.facts.recorded) return { version: read.facts.recorded, appended: false };
        if (!read.facts.exists) throw new ComponentGoneError(init.componentId);
        streamVersion = read.streamVersion;
      }
      const message = create(eventsV1.VersionRecordedSchema, init);
      try {
        await this.store.append(streamOf(init.componentId), [{ message, eventId: init.buildEventId, actor: this.actor }], streamVersion);
        return { version: message, appended: true };
      } catch (err) {
        // Someone appended meanwhile (a user's change, or another builder's record): read again.
        if (!(err instanceof ConcurrencyError) || attempt >= 10) throw err;
      }
    }
  }

  private async read(componentId: string, buildEventId: string): Promise<{ facts: ComponentFacts; streamVersion: number }> {
    const facts: ComponentFacts = { exists: false };
    let streamVersion = 0;
    const page = 500;
    // Bounded: a component stream of more than 500,000 events is read only that far.
    for (let from = 1, pages = 0; pages < 1000; pages++) {
      const events = await this.store.read(streamOf(componentId), from, page);
      for (const e of events) {
        streamVersion = e.version;
        switch (e.type) {
          case 'wharf.events.v1.ComponentCreated':
            facts.exists = true;
            facts.spec = (e.message as eventsV1.ComponentCreated).spec;
            break;
          case 'wharf.events.v1.ComponentUpdated':
            facts.spec = (e.message as eventsV1.ComponentUpdated).spec;
            break;
          case 'wharf.events.v1.ComponentDeleted':
            facts.exists = false;
            break;
          case 'wharf.events.v1.VersionRecorded': {
            const v = e.message as eventsV1.VersionRecorded;
            if (v.buildEventId === buildEventId) facts.recorded = v;
            break;
          }
        }
      }
      if (events.length < page) break;
      from = events[events.length - 1].version + 1;
    }
    return { facts, streamVersion };
  }
}

export class ComponentGoneError extends Error {
  constructor(readonly componentId: string) {
    super(`component ${componentId} does not exist (deleted while it was being built?)`);
    this.name = 'ComponentGoneError';
  }
}
