/** One thing a service needs to serve its main calls (etcd reachable, projection caught up, partitions owned...). */
export interface ReadinessCheck {
  readonly name: string;
  check(): CheckResult | Promise<CheckResult>;
}

export interface CheckResult {
  ok: boolean;
  /** Why not (or what it saw): shown in /readyz and in `npm run up`. */
  detail?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

/**
 * Readiness of one process, the Kubernetes way: ready means it can serve its main calls now.
 * Every check runs on each ask, each bounded by a timeout (a check that hangs is a failed
 * check, never a hung probe); once shutdown has begun the process is never ready again.
 */
export class Readiness {
  private readonly checks: ReadinessCheck[] = [];
  private drainingReason?: string;

  constructor(private readonly timeoutMs = 2000) {}

  add(...checks: ReadinessCheck[]): this {
    this.checks.push(...checks);
    return this;
  }

  /** From now on not ready (shutting down): load balancers and waiting scripts move away first. */
  drain(reason = 'shutting down'): void {
    this.drainingReason = reason;
  }

  get draining(): boolean {
    return this.drainingReason !== undefined;
  }

  async report(): Promise<ReadinessReport> {
    const results = await Promise.all(this.checks.map((c) => this.run(c)));
    const checks: Record<string, CheckResult> = {};
    this.checks.forEach((c, i) => (checks[c.name] = results[i]));
    if (this.drainingReason) checks.shutdown = { ok: false, detail: this.drainingReason };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }

  private async run(check: ReadinessCheck): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, detail: `${check.name} did not answer within ${this.timeoutMs} ms` }), this.timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([Promise.resolve().then(() => check.check()), timeout]);
    } catch (err) {
      return { ok: false, detail: (err as Error).message ?? String(err) };
    } finally {
      clearTimeout(timer);
    }
  }
}
