import type { RuntimeLogCollector, RuntimeLogLine } from '@wharf/runtime';
import type { Clock } from '@wharf/system';

// The interface is @wharf/runtime's (its DriverLogCollector reads the runtime); this is the in-memory one.
export type { RuntimeLogCollector, RuntimeLogLine } from '@wharf/runtime';

/** In-memory collector: lines are pushed in (tests, and WHARF_RUNTIME_LOGS=none). */
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
