import type { Clock, Ids } from '@wharf/system';

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  constructor(private ms = 1_700_000_000_000) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}

/** Ids a test can predict: uuid() gives 00000000-0000-4000-8000-000000000001, ...; hex() counts up. */
export class SequentialIds implements Ids {
  private n = 0;
  uuid(): string {
    return `00000000-0000-4000-8000-${String(++this.n).padStart(12, '0')}`;
  }
  hex(bytes: number): string {
    return (++this.n).toString(16).padStart(bytes * 2, '0');
  }
}
