import type { EntryRecord } from '../domain/records';

/** A follower of one operation's timeline. */
export interface FollowSink {
  entries(entries: EntryRecord[]): void;
  /** The stream stopped (partition moved, owner gone, shutdown): resume from the last seq seen. */
  end(reason: string): void;
}
