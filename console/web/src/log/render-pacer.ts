/**
 * How far apart the log view's renders are while lines stream. Ten a second read as live; a
 * render that takes long (its DOM changes and their layout, in wall time) says the machine is
 * busy, and then the next renders come further apart, doubling up to `maxMs`, so the frames in
 * between stay free for scrolling and the page's own work; quick renders bring the pace back
 * step by step. The whole window is redrawn whatever the gap, so fewer renders is less work.
 */
export class RenderPacer {
  private every: number;

  constructor(
    readonly minMs = 100,
    readonly maxMs = 400,
    /** A render longer than this counts as slow. */
    readonly slowMs = 12,
  ) {
    this.every = minMs;
  }

  /** The least time from one render to the next. */
  get intervalMs(): number {
    return this.every;
  }

  /** After a render that took `tookMs`. */
  rendered(tookMs: number): void {
    this.every = tookMs > this.slowMs ? Math.min(this.maxMs, this.every * 2) : Math.max(this.minMs, this.every - this.minMs / 4);
  }
}
