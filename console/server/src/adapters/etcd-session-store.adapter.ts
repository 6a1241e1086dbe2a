import type { Etcd3 } from 'etcd3';
import type { SessionRecord, SessionStore } from '../domain/ports';

/**
 * Sessions as etcd keys under the console's prefix, keyed by the hash of the session id (so
 * whoever reads etcd cannot sign in with what is there), each on a lease of its lifetime so
 * etcd deletes it on expiry. Sessions are not events: they are neither domain state nor audit.
 * Looked-up sessions are cached briefly so a page's burst of calls costs one etcd read.
 */
export class EtcdSessionStore implements SessionStore {
  private readonly cache = new Map<string, { session: SessionRecord; until: number }>();

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly now: () => number,
    private readonly cacheMs = 2000,
  ) {}

  private key(idHash: string): string {
    return `${this.prefix}/sessions/${idHash}`;
  }

  async put(session: SessionRecord): Promise<void> {
    const ttlS = Math.max(1, Math.ceil((session.expiresAtMs - this.now()) / 1000));
    const lease = this.client.lease(ttlS, { autoKeepAlive: false });
    await lease.put(this.key(session.idHash)).value(JSON.stringify(session));
  }

  async get(idHash: string): Promise<SessionRecord | undefined> {
    const hit = this.cache.get(idHash);
    if (hit && hit.until > this.now()) return hit.session;
    const text = await this.client.get(this.key(idHash)).string();
    if (!text) {
      this.cache.delete(idHash);
      return undefined;
    }
    const session = JSON.parse(text) as SessionRecord;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(idHash, { session, until: this.now() + this.cacheMs });
    return session;
  }

  async delete(idHash: string): Promise<void> {
    this.cache.delete(idHash);
    await this.client.delete().key(this.key(idHash));
  }
}
