import type { Message } from '@bufbuild/protobuf';
import { ConflictError } from '@wharf/errors';
import { ConcurrencyError, type EventStore, type Projection } from '@wharf/event-store';
import type { Clock, Ids } from '@wharf/system';
import type { ConsoleState } from './console-state';

/** Appends to the console's streams and reads its own writes back from the projection. */
export class ConsoleContext {
  constructor(
    private readonly store: EventStore,
    private readonly projection: Projection<ConsoleState>,
    readonly clock: Clock,
    readonly ids: Ids,
  ) {}

  get state(): ConsoleState {
    return this.projection.state;
  }

  /** expectedVersion 0: the stream must not exist yet. A lost race is a 409 and appends nothing. */
  async append(stream: string, messages: Message[], expectedVersion: number, actor: string): Promise<void> {
    try {
      const { position } = await this.store.append(
        stream,
        messages.map((message) => ({ message, actor })),
        expectedVersion,
      );
      await this.projection.waitFor(position);
    } catch (err) {
      if (err instanceof ConcurrencyError) throw new ConflictError(`${stream} changed meanwhile; read it again and retry`, { reason: 'version_mismatch' });
      throw err;
    }
  }
}
