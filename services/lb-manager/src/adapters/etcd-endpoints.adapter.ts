import { watchLive, type Etcd3, type KeyLayout, type LiveWatch } from '@wharf/etcd';
import type { Logger } from '@wharf/logging';
import { parseComponentEndpoints, type ReadyEndpoints } from '../domain/endpoints';

interface KeyValue {
  key: Buffer;
  value: Buffer;
  mod_revision: string;
}

/**
 * Follows `<root>/endpoints/` (app-manager's ComponentEndpoints per component): a live watch
 * (@wharf/etcd watchLive: re-created after compaction) opened first, then a full read; every
 * resync the watch asks for reads again. Puts, deletes and reads may arrive out of order (a read
 * answers at its own revision), so each key keeps the revision of what was applied last and
 * nothing older replaces it. Calls onChange after every change; the map holds only what parsed
 * (bad keys are logged).
 */
export class EtcdEndpoints {
  readonly endpoints = new Map<string, ReadyEndpoints>();
  private watch?: LiveWatch;
  private closed = false;
  private live = false;
  /** Component id -> mod revision of the last put or delete applied (deletes kept until a read passes them). */
  private readonly applied = new Map<string, bigint>();
  private reading?: Promise<void>;
  private readAgain = false;
  /** Problems with the keys as they are now (component id -> reason), for /routes. */
  readonly problems = new Map<string, string>();
  /** Moves on every change of the map (the sync reuses its last state while it stays). */
  revision = 0;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly logger: Logger,
    private readonly onChange: () => void,
  ) {}

  /** The watch runs and the last read since it (re)connected succeeded. */
  get following(): boolean {
    return this.live && !this.closed;
  }

  /** Resolves after the first full read; the watch keeps going until close(). */
  async start(): Promise<void> {
    const watch = await watchLive(this.client, this.keys.endpoints.prefix());
    this.watch = watch;
    watch.on('put', (kv) => {
      if (this.applyPut(kv)) this.changed();
    });
    watch.on('delete', (kv) => {
      if (this.applyDelete(kv)) this.changed();
    });
    watch.on('retry', (err) => {
      this.live = false;
      this.logger.warn({ err }, 'endpoints watch cancelled by etcd: watching again, then reading them again');
    });
    watch.on('resync', () => void this.readWithBackoff());
    if (this.closed) return watch.cancel();
    try {
      await this.read();
    } catch (err) {
      await watch.cancel();
      throw err;
    }
  }

  private changed(): void {
    this.revision++;
    this.onChange();
  }

  /** One full read at a time; a resync asked for during one reads once more after it. */
  private read(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return this.reading;
    }
    this.reading = (async () => {
      try {
        do {
          this.readAgain = false;
          await this.readOnce();
        } while (this.readAgain && !this.closed);
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  private async readOnce(): Promise<void> {
    const res = await this.client.getAll().prefix(this.keys.endpoints.prefix()).exec();
    const at = BigInt(res.header.revision);
    const present = new Set<string>();
    for (const kv of res.kvs) {
      present.add(this.componentOf(kv.key.toString()));
      this.applyPut(kv);
    }
    // A key missing from a read at revision `at` was deleted at or before it, unless the watch brought it back since.
    for (const [componentId, rev] of [...this.applied]) {
      if (present.has(componentId) || rev > at) continue;
      this.applied.delete(componentId);
      this.endpoints.delete(componentId);
      this.problems.delete(componentId);
    }
    this.live = true;
    this.changed();
  }

  private async readWithBackoff(): Promise<void> {
    for (let attempt = 0; !this.closed && attempt < 1000; attempt++) {
      try {
        await this.read();
        return;
      } catch (err) {
        this.live = false;
        this.logger.warn({ err, attempt }, 'endpoints read failed');
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** Math.min(attempt, 6))));
      }
    }
  }

  /** True when the key was newer than what was applied (and so applied). */
  private applyPut(kv: KeyValue): boolean {
    const componentId = this.componentOf(kv.key.toString());
    const rev = BigInt(kv.mod_revision);
    if (rev <= (this.applied.get(componentId) ?? -1n)) return false;
    this.applied.set(componentId, rev);
    this.put(componentId, kv.value.toString());
    return true;
  }

  private applyDelete(kv: KeyValue): boolean {
    const componentId = this.componentOf(kv.key.toString());
    const rev = BigInt(kv.mod_revision);
    if (rev <= (this.applied.get(componentId) ?? -1n)) return false;
    this.applied.set(componentId, rev);
    this.endpoints.delete(componentId);
    this.problems.delete(componentId);
    return true;
  }

  private componentOf(key: string): string {
    return key.slice(this.keys.endpoints.prefix().length);
  }

  private put(componentId: string, value: string): void {
    const parsed = parseComponentEndpoints(componentId, value);
    if (!parsed.ok) {
      this.endpoints.delete(componentId);
      this.problems.set(componentId, parsed.reason);
      this.logger.warn({ componentId, reason: parsed.reason }, 'endpoints key ignored');
      return;
    }
    this.endpoints.set(componentId, parsed.value);
    if (parsed.dropped.length) {
      this.problems.set(componentId, `addresses that are not IP literals were left out: ${parsed.dropped.join(', ')}`);
      this.logger.warn({ componentId, dropped: parsed.dropped }, 'endpoint addresses ignored');
    } else this.problems.delete(componentId);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.watch?.cancel();
    await this.reading?.catch(() => undefined);
  }
}
