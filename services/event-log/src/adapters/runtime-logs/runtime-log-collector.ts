import type { Clock } from '@wharf/system';

/** One line a replica of a component wrote to stdout or stderr. */
export interface RuntimeLogLine {
  /** The replica that wrote it (container or pod name). */
  replica: string;
  timeMs: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

/**
 * Runtime logs of a component's replicas, merged. The Docker and Kubernetes collectors (with
 * app-manager's runtime drivers) implement this; event-log serves it over socket.io.
 */
export interface RuntimeLogCollector {
  /**
   * The last `tail` lines of all replicas merged by time, then every new line as it comes,
   * until the returned function is called. onEnd: the source stopped (e.g. component deleted).
   */
  follow(componentId: string, tail: number, onLines: (lines: RuntimeLogLine[]) => void, onEnd?: (reason: string) => void): () => void;
}

/** In-memory collector: lines are pushed in (tests, and the embedded default until a runtime collector exists). */
export class MemoryRuntimeLogCollector implements RuntimeLogCollector {
  private readonly buffers = new Map<string, RuntimeLogLine[]>();
  private readonly followers = new Map<string, Set<(lines: RuntimeLogLine[]) => void>>();

  constructor(
    private readonly clock: Clock,
    private readonly keepPerComponent = 10_000,
  ) {}

  push(componentId: string, replica: string, text: string, stream: 'stdout' | 'stderr' = 'stdout', timeMs = this.clock.now()): void {
    const line: RuntimeLogLine = { replica, timeMs, stream, text };
    let buf = this.buffers.get(componentId);
    if (!buf) this.buffers.set(componentId, (buf = []));
    // Replicas report independently; keep the buffer ordered by time (ties keep arrival order).
    let at = buf.length;
    while (at > 0 && buf[at - 1].timeMs > timeMs) at--;
    buf.splice(at, 0, line);
    if (buf.length > this.keepPerComponent * 2) buf.splice(0, buf.length - this.keepPerComponent);
    for (const f of this.followers.get(componentId) ?? []) f([line]);
  }

  follow(componentId: string, tail: number, onLines: (lines: RuntimeLogLine[]) => void): () => void {
    const buf = this.buffers.get(componentId) ?? [];
    const last = tail > 0 ? buf.slice(-tail) : [];
    if (last.length) onLines(last);
    let set = this.followers.get(componentId);
    if (!set) this.followers.set(componentId, (set = new Set()));
    set.add(onLines);
    return () => set!.delete(onLines);
  }
}
