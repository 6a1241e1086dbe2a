import type { EventStore, FeedPosition, Projection } from '@wharf/event-store';
import type { Logger } from '@wharf/logging';
import { Catalog, type CatalogSnapshot } from '../domain/catalog';
import type { ProjectionSnapshots } from './projection-snapshots.adapter';

export interface SnapshotPolicy {
  /** Save once this many events arrived since the last save... */
  minEvents: number;
  /** ...but not more often than this; */
  minIntervalMs: number;
  /** any change at all is saved after this long. */
  maxIntervalMs: number;
  checkEveryMs: number;
}

export const defaultSnapshotPolicy: SnapshotPolicy = { minEvents: 1000, minIntervalMs: 30_000, maxIntervalMs: 300_000, checkEveryMs: 5_000 };

/**
 * Bounds cold start: the catalog is saved now and then (and on shutdown), and a restart
 * loads the latest save and follows the feed from its position instead of replaying it all.
 */
export class CatalogSnapshotter {
  private savedEvents = 0;
  private savedAt = 0;
  private saving?: Promise<void>;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly snapshots: ProjectionSnapshots,
    private readonly logger: Logger,
    private readonly policy: SnapshotPolicy = defaultSnapshotPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** The saved catalog to start from, or undefined (none, unreadable, or ahead of this etcd's feed). */
  async restore(store: EventStore): Promise<{ state: Catalog; position: FeedPosition } | undefined> {
    try {
      const saved = await this.snapshots.load<CatalogSnapshot>();
      if (!saved) return undefined;
      const head = BigInt(await store.head());
      if (BigInt(saved.position) > head) {
        this.logger.warn({ position: saved.position, head: String(head) }, 'catalog snapshot is ahead of the feed (etcd restored?); replaying from zero');
        return undefined;
      }
      const state = Catalog.restore(saved.state);
      this.savedEvents = state.events;
      this.savedAt = saved.meta.timeMs;
      return { state, position: saved.position };
    } catch (err) {
      this.logger.warn({ err }, 'catalog snapshot unreadable; replaying from zero');
      return undefined;
    }
  }

  start(projection: Projection<Catalog>): void {
    this.timer = setInterval(() => {
      if (this.due(projection.state)) void this.save(projection);
    }, this.policy.checkEveryMs);
    this.timer.unref();
  }

  due(catalog: Catalog): boolean {
    const fresh = catalog.events - this.savedEvents;
    const age = this.now() - this.savedAt;
    return !this.saving && fresh > 0 && ((fresh >= this.policy.minEvents && age >= this.policy.minIntervalMs) || age >= this.policy.maxIntervalMs);
  }

  /** Saves the catalog as of the projection's position now; one save at a time. */
  save(projection: Projection<Catalog>): Promise<void> {
    if (this.saving) return this.saving;
    const catalog = projection.state;
    const position = projection.position;
    // Only a state that is exactly the fold up to `position` may be saved (no half-applied revision).
    if (BigInt(catalog.lastPosition) > BigInt(position) || catalog.events === this.savedEvents) return Promise.resolve();
    const started = this.now();
    const snapshot = catalog.snapshot();
    this.saving = this.snapshots
      .save(position, snapshot) // serialises synchronously, before any other event is folded
      .then((meta) => {
        this.savedEvents = snapshot.events;
        this.savedAt = started;
        this.logger.info({ position, events: snapshot.events, bytes: meta.bytes, chunks: meta.chunks, ms: this.now() - started }, 'catalog snapshot saved');
      })
      .catch((err) => this.logger.warn({ err }, 'catalog snapshot failed; will retry'))
      .finally(() => (this.saving = undefined));
    return this.saving;
  }

  /** Stops the timer and saves what changed since the last save (a graceful restart then replays nothing). */
  async stop(projection: Projection<Catalog>): Promise<void> {
    clearInterval(this.timer);
    await this.saving;
    await this.save(projection);
  }
}
