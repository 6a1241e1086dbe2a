import type { DcHealth } from './ports';

export interface BackoffSettings {
  initialMs: number;
  maxMs: number;
}

/**
 * One data center's reachability: calls go through while it answers; after a failure it is
 * unreachable and calls fail at once until `retryAtMs`, when one call is let through (the
 * others keep failing fast); each further failure doubles the wait, up to `maxMs`. A success
 * resets it. Pure: the adapter feeds it outcomes and the time.
 */
export class DcBackoff {
  private state: DcHealth = { status: 'ok', message: null, sinceMs: null, retryAtMs: null };
  private delayMs = 0;
  private probing = false;

  constructor(private readonly settings: BackoffSettings) {}

  get health(): DcHealth {
    return { ...this.state };
  }

  /** Whether a call may go out now; while backing off, only one trial call at or after retryAt. */
  admit(nowMs: number): boolean {
    if (this.state.status === 'ok') return true;
    if (this.probing || (this.state.retryAtMs ?? 0) > nowMs) return false;
    this.probing = true;
    return true;
  }

  succeeded(nowMs: number): void {
    this.probing = false;
    this.delayMs = 0;
    if (this.state.status !== 'ok') this.state = { status: 'ok', message: null, sinceMs: nowMs, retryAtMs: null };
  }

  failed(nowMs: number, message: string): void {
    this.probing = false;
    this.delayMs = this.delayMs === 0 ? this.settings.initialMs : Math.min(this.delayMs * 2, this.settings.maxMs);
    this.state = {
      status: 'unreachable',
      message,
      sinceMs: this.state.status === 'unreachable' ? this.state.sinceMs : nowMs,
      retryAtMs: nowMs + this.delayMs,
    };
  }
}
