import { UnavailableError } from '@wharf/errors';
import type { Clock } from '@wharf/system';

export type DependencyName = 'etcd' | 'mq' | 'event-log';

/**
 * What this process knows about one dependency: up, or down since when and why. Fed by
 * failed calls and by a background probe (adapters/etcd-probe.adapter.ts); while it is
 * down, calls that need it are refused at once (503 with a retry hint) instead of each
 * waiting out the client's own retries, and the first probe that gets an answer lifts it.
 */
export class DependencyState {
  private downSince?: number;
  private reason = '';
  /** Calls refused without trying, since the start (a metric). */
  refused = 0;

  constructor(
    readonly name: DependencyName,
    private readonly clock: Clock,
    readonly retryAfterMs = 2000,
  ) {}

  get up(): boolean {
    return this.downSince === undefined;
  }

  markUp(): void {
    this.downSince = undefined;
    this.reason = '';
  }

  markDown(reason: string): void {
    this.downSince ??= this.clock.now();
    this.reason = reason;
  }

  /** The error a call that needs this dependency answers while it is down. */
  unavailable(): UnavailableError {
    const forS = this.downSince === undefined ? 0 : Math.round((this.clock.now() - this.downSince) / 1000);
    return new UnavailableError(`${this.name} is unavailable (for ${forS} s${this.reason ? `: ${this.reason}` : ''}); retry later`, {
      retryAfterMs: this.retryAfterMs,
    });
  }

  /** Throws at once while the outage is known. */
  assertUp(): void {
    if (this.up) return;
    this.refused++;
    throw this.unavailable();
  }

  describe(): { name: DependencyName; up: boolean; down_for_ms?: number; reason?: string } {
    if (this.downSince === undefined) return { name: this.name, up: true };
    return { name: this.name, up: false, down_for_ms: this.clock.now() - this.downSince, reason: this.reason };
  }
}
