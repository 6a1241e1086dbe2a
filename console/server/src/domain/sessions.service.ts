import { UnauthenticatedError } from '@wharf/errors';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ConsoleContext } from './console-context';
import type { ConsoleUser } from './console-state';
import type { SessionRecord, SessionStore } from './ports';

export const sessionIdHash = (id: string) => createHash('sha256').update(id).digest('hex');

export interface SignedIn {
  /** The session id: the cookie's value (browsers) or a bearer token (CLI, scripts). Shown once, stored only as a hash. */
  id: string;
  session: SessionRecord;
}

/** Sessions: made at sign-in, looked up per request, ended at sign-out or expiry. */
export class SessionsService {
  constructor(
    private readonly ctx: ConsoleContext,
    private readonly store: SessionStore,
    private readonly ttlMs: number,
  ) {}

  async start(user: ConsoleUser): Promise<SignedIn> {
    const id = `wcs_${this.ctx.ids.hex(32)}`;
    const now = this.ctx.clock.now();
    const session: SessionRecord = { idHash: sessionIdHash(id), user: user.name, csrf: this.ctx.ids.hex(32), createdAtMs: now, expiresAtMs: now + this.ttlMs };
    await this.store.put(session);
    return { id, session };
  }

  /** The live session of an id, else 401; a session outlives neither its expiry nor its user. */
  async resolve(id: string | undefined): Promise<SessionRecord> {
    if (!id || !/^wcs_[0-9a-f]{64}$/.test(id)) throw new UnauthenticatedError('sign in first');
    const session = await this.store.get(sessionIdHash(id));
    if (!session || session.expiresAtMs <= this.ctx.clock.now() || !this.ctx.state.users.has(session.user)) {
      throw new UnauthenticatedError('your session has ended: sign in again');
    }
    return session;
  }

  async end(session: SessionRecord): Promise<void> {
    await this.store.delete(session.idHash);
  }

  /** Whether a change carries the session's synchronizer token (constant time). */
  static csrfMatches(session: SessionRecord, sent: string | undefined): boolean {
    if (typeof sent !== 'string' || sent.length !== session.csrf.length) return false;
    return timingSafeEqual(Buffer.from(sent), Buffer.from(session.csrf));
  }
}
