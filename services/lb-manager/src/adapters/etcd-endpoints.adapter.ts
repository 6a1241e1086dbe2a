import type { Etcd3, KeyLayout } from '@wharf/etcd';
import type { Logger } from '@wharf/logging';
import { parseComponentEndpoints, type ReadyEndpoints } from '../domain/endpoints';

type Watcher = Awaited<ReturnType<ReturnType<Etcd3['watch']>['create']>>;

/**
 * Follows `<root>/endpoints/` (app-manager's ComponentEndpoints per component): a full read,
 * then a watch from the revision after it; a watch that fails (compaction) reads again.
 * Calls onChange after every change; the map holds only what parsed (bad keys are logged).
 */
export class EtcdEndpoints {
  readonly endpoints = new Map<string, ReadyEndpoints>();
  private watcher?: Watcher;
  private closed = false;
  private live = false;
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

  get following(): boolean {
    return this.live && !this.closed;
  }

  /** Resolves after the first full read; the watch keeps going until close(). */
  async start(): Promise<void> {
    await this.load();
  }

  private async load(): Promise<void> {
    const prefix = this.keys.endpoints.prefix();
    const res = await this.client.getAll().prefix(prefix).exec();
    this.endpoints.clear();
    this.problems.clear();
    for (const kv of res.kvs) this.put(kv.key.toString(), kv.value.toString());
    this.revision++;
    this.onChange();
    if (this.closed) return;
    const watcher = await this.client
      .watch()
      .prefix(prefix)
      .startRevision(String(BigInt(res.header.revision) + 1n))
      .create();
    this.watcher = watcher;
    this.live = true;
    watcher.on('put', (kv) => (this.put(kv.key.toString(), kv.value.toString()), this.revision++, this.onChange()));
    watcher.on('delete', (kv) => (this.remove(kv.key.toString()), this.revision++, this.onChange()));
    watcher.on('disconnected', () => (this.live = false));
    watcher.on('connected', () => (this.live = true));
    watcher.on('error', (err) => {
      this.live = false;
      this.logger.warn({ err }, 'endpoints watch failed: reading them again');
      void watcher.cancel().catch(() => undefined);
      if (!this.closed) void this.reloadWithBackoff();
    });
    if (this.closed) await watcher.cancel().catch(() => undefined);
  }

  private async reloadWithBackoff(): Promise<void> {
    for (let attempt = 0; !this.closed && attempt < 1000; attempt++) {
      try {
        await this.load();
        return;
      } catch (err) {
        this.logger.warn({ err, attempt }, 'endpoints read failed');
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** Math.min(attempt, 6))));
      }
    }
  }

  private componentOf(key: string): string {
    return key.slice(this.keys.endpoints.prefix().length);
  }

  private put(key: string, value: string): void {
    const componentId = this.componentOf(key);
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

  private remove(key: string): void {
    const componentId = this.componentOf(key);
    this.endpoints.delete(componentId);
    this.problems.delete(componentId);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.watcher?.cancel().catch(() => undefined);
  }
}
