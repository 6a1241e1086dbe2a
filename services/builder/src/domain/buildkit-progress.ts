/**
 * BuildKit's plain progress output (`--progress=plain`), read line by line: which
 * instruction each vertex (#N) is, whether it came from the cache, and where it failed.
 *
 *   #7 [3/5] RUN --mount=type=cache,... npm ci --omit=dev
 *   #7 CACHED
 *   #8 [4/5] COPY . .
 *   #8 DONE 0.1s
 *   #9 ERROR: executor failed running [/bin/sh -c npm ci]: exit code: 1
 */
export interface Vertex {
  id: number;
  name: string;
  cached: boolean;
  done: boolean;
  error?: string;
}

export class BuildkitProgress {
  private readonly vertices = new Map<number, Vertex>();
  /** The last "error: ..." / "failed to solve" line of the CLI. */
  solveError?: string;

  /** Feeds one output line. */
  push(line: string): void {
    const v = /^#(\d+) (.*)$/.exec(line);
    if (!v) {
      const e = /^(?:error|ERROR): (.*)$/.exec(line.trim());
      if (e) this.solveError = e[1];
      return;
    }
    const id = Number(v[1]);
    const rest = v[2];
    const vertex = this.vertices.get(id);
    if (!vertex) {
      // The first line of a vertex is its name (later lines are its output, status or digest).
      this.vertices.set(id, { id, name: rest, cached: rest === 'CACHED', done: false });
      return;
    }
    if (rest === 'CACHED') vertex.cached = true;
    else if (/^DONE \d/.test(rest)) vertex.done = true;
    else if (rest.startsWith('ERROR')) vertex.error = rest.replace(/^ERROR:?\s*/, '') || 'failed';
  }

  get all(): Vertex[] {
    return [...this.vertices.values()];
  }

  /** The Dockerfile instructions ("[2/5] RUN ...") that were reused from the cache. */
  cachedInstructions(): string[] {
    return this.all.filter((v) => v.cached && /^\[/.test(v.name)).map((v) => v.name);
  }

  /** The instruction that failed, e.g. "[3/5] RUN npm ci", if one did. */
  failedInstruction(): Vertex | undefined {
    return this.all.find((v) => v.error && /^\[/.test(v.name)) ?? this.all.find((v) => v.error);
  }
}

/** An exit code BuildKit reported for a failed RUN ("... exit code: 137"). */
export function exitCodeOf(error: string | undefined): number | undefined {
  const m = error ? /exit code: (\d+)/.exec(error) : null;
  return m ? Number(m[1]) : undefined;
}
