import type { Clock } from '@wharf/system';

/**
 * Per-sender token buckets: `ratePerSec` frames a second on average, bursts up to `burst`.
 * A flood from one sender is refused (RESOURCE_EXHAUSTED, the client backs off) while
 * everyone else goes on. Buckets of senders gone quiet are dropped.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastPrune = 0;

  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
    private readonly clock: Clock,
  ) {}

  /** Takes n tokens for sender; false (and takes none) if the sender is over its rate. */
  take(sender: string, n: number): boolean {
    const now = this.clock.now();
    if (now - this.lastPrune > 60_000) this.prune(now);
    let b = this.buckets.get(sender);
    if (!b) this.buckets.set(sender, (b = { tokens: this.burst, at: now }));
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerSec);
    b.at = now;
    // A batch larger than the burst passes on a full bucket and leaves a debt to pay back.
    if (b.tokens < Math.min(n, this.burst)) return false;
    b.tokens -= n;
    return true;
  }

  private prune(now: number): void {
    this.lastPrune = now;
    for (const [k, b] of this.buckets) if (now - b.at > 60_000) this.buckets.delete(k);
  }
}
