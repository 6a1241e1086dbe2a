/** The steps of a build, in order (an image build has no clone, detect or build). */
export const BUILD_STEPS = ['clone', 'detect', 'build', 'pull', 'push', 'record'] as const;
export type BuildStep = (typeof BUILD_STEPS)[number];

/**
 * A build that cannot succeed as asked: the operation fails naming the step, the reason and
 * the last lines of the step's output (never a bare "build failed"). Not retried: the same
 * input fails the same way.
 */
export class BuildFailure extends Error {
  constructor(
    readonly step: BuildStep,
    readonly reason: string,
    readonly lastLines: readonly string[] = [],
  ) {
    super(`${step}: ${reason}`);
    this.name = 'BuildFailure';
  }

  /** The step's failure message as event-log stores it (bounded). */
  get stepMessage(): string {
    const tail = this.lastLines.length ? `\nlast lines of ${this.step}:\n${this.lastLines.join('\n')}` : '';
    const text = `${this.reason}${tail}`;
    return text.length <= 4000 ? text : `${text.slice(0, 1000)}\n…\n${text.slice(-2900)}`;
  }
}

/** The last N lines of a step's output, for failure messages. */
export class LastLines {
  private readonly lines: string[] = [];
  constructor(private readonly max = 15) {}

  push(line: string): void {
    if (!line.trim()) return;
    this.lines.push(line.length > 300 ? `${line.slice(0, 300)}…` : line);
    if (this.lines.length > this.max) this.lines.shift();
  }

  get(): string[] {
    return [...this.lines];
  }
}
