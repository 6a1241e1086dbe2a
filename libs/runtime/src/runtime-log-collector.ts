import type { ReplicaLogLine, ReplicaState, RuntimeDriver } from './runtime-driver';

/** One line a replica of a component wrote to stdout or stderr (event-log's RuntimeLogLine). */
export interface RuntimeLogLine {
  /** The replica that wrote it (container or pod name). */
  replica: string;
  timeMs: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

/** Runtime logs of a component's replicas, merged (the interface event-log serves over socket.io). */
export interface RuntimeLogCollector {
  /**
   * The last `tail` lines of all replicas merged by time, then every new line as it comes,
   * until the returned function is called. onEnd: the source stopped.
   */
  follow(componentId: string, tail: number, onLines: (lines: RuntimeLogLine[]) => void, onEnd?: (reason: string) => void): () => void;
}

export interface DriverLogCollectorOptions {
  /** How long the first lines of every replica are gathered before the merged tail is sent. */
  settleMs?: number;
  /** How often the replica list is read again, besides the runtime's events (missed events, new replicas). */
  rescanMs?: number;
  /** At most this many replicas are followed at once per follow() call. */
  maxReplicas?: number;
  onWarning?: (message: string, err?: unknown) => void;
}

/**
 * The runtime-log collector for any RuntimeDriver (Docker: `docker logs --follow` of every
 * container of the component): one follow per replica, each line tagged with its replica;
 * the first `tail` lines of all of them are merged by time before anything is sent, and then
 * lines pass on as they come. A replica that appears later (scale up, a crash replaced, a
 * rolling upgrade) is followed from its first line; one that restarts is followed again from
 * where its last line was, so a follow survives every change of the replica set.
 */
export class DriverLogCollector implements RuntimeLogCollector {
  private readonly settleMs: number;
  private readonly rescanMs: number;
  private readonly maxReplicas: number;

  constructor(
    private readonly driver: RuntimeDriver,
    private readonly options: DriverLogCollectorOptions = {},
  ) {
    this.settleMs = options.settleMs ?? 150;
    this.rescanMs = options.rescanMs ?? 2000;
    this.maxReplicas = options.maxReplicas ?? 200;
  }

  follow(componentId: string, tail: number, onLines: (lines: RuntimeLogLine[]) => void, onEnd?: (reason: string) => void): () => void {
    const abort = new AbortController();
    /** Replica id -> follow state; lastMs lets a restarted replica resume without repeating lines. */
    const followed = new Map<string, { name: string; running: boolean; lastMs: number }>();
    let settling: RuntimeLogLine[] | undefined = [];
    const emit = (lines: RuntimeLogLine[]) => {
      if (abort.signal.aborted || lines.length === 0) return;
      if (settling) settling.push(...lines);
      else onLines(lines);
    };

    const followReplica = (r: ReplicaState, firstTail: number) => {
      const known = followed.get(r.id);
      if (known?.running || abort.signal.aborted) return;
      if (!known && followed.size >= this.maxReplicas) return;
      const state = known ?? { name: r.name, running: true, lastMs: 0 };
      state.running = true;
      followed.set(r.id, state);
      const sinceMs = state.lastMs || undefined;
      void (async () => {
        try {
          for await (const line of this.driver.logs(r.id, { tail: sinceMs ? 0 : firstTail, follow: true, sinceMs, signal: abort.signal })) {
            // Resuming by time (seconds on Docker's API): drop what was already sent.
            if (sinceMs && line.timeMs <= state.lastMs) continue;
            state.lastMs = Math.max(state.lastMs, line.timeMs);
            emit([{ replica: state.name, timeMs: line.timeMs, stream: line.stream, text: line.text }]);
          }
        } catch (err) {
          if (!abort.signal.aborted) this.options.onWarning?.(`log follow of ${state.name} failed`, err);
        } finally {
          state.running = false; // the replica stopped (or was removed): a start event or rescan follows it again
        }
      })();
    };

    const scan = async (firstTail: number) => {
      try {
        const replicas = await this.driver.listReplicas({ componentId });
        for (const r of replicas) if (r.phase === 'running' || !followed.has(r.id)) followReplica(r, firstTail);
        const ids = new Set(replicas.map((r) => r.id));
        for (const [id, f] of followed) if (!ids.has(id) && !f.running) followed.delete(id);
      } catch (err) {
        if (!abort.signal.aborted) this.options.onWarning?.(`listing replicas of ${componentId} failed`, err);
      }
    };

    const stopWatch = this.driver.watch((e) => {
      if (e.labels?.componentId !== componentId || (e.kind !== 'started' && e.kind !== 'created')) return;
      // A new replica: all of its lines are new to the follower.
      void this.driver.inspectReplica(e.id).then(
        (r) => r && followReplica(r, Number.MAX_SAFE_INTEGER),
        () => undefined,
      );
    });

    void scan(Math.max(0, tail)).then(() => {
      const timer = setTimeout(() => {
        const first = settling ?? [];
        settling = undefined;
        first.sort((a, b) => a.timeMs - b.timeMs);
        if (!abort.signal.aborted && first.length) onLines(tail > 0 ? first.slice(-tail) : []);
      }, this.settleMs);
      abort.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    });
    const rescan = setInterval(() => void scan(Number.MAX_SAFE_INTEGER), this.rescanMs);
    rescan.unref();

    return () => {
      if (abort.signal.aborted) return;
      abort.abort();
      clearInterval(rescan);
      stopWatch();
      onEnd?.('stopped');
    };
  }
}

/** The last lines of one replica as one text (a crashed replica's reason). */
export async function lastLines(driver: RuntimeDriver, id: string, n: number): Promise<string> {
  const lines: ReplicaLogLine[] = [];
  try {
    for await (const l of driver.logs(id, { tail: n, follow: false })) lines.push(l);
  } catch {
    return '';
  }
  return lines
    .slice(-n)
    .map((l) => l.text)
    .join('\n');
}
