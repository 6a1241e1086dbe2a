import type { Etcd3, KeyLayout } from '@wharf/etcd';
import type { Clock } from '@wharf/system';
import type { DependencyState } from '../domain/dependency-state';

export interface EtcdProbeOptions {
  /** How often etcd is asked while it answers, and while it does not. */
  upEveryMs: number;
  downEveryMs: number;
  /** A probe that takes longer counts as a failure. */
  timeoutMs: number;
}

export const defaultEtcdProbe: EtcdProbeOptions = { upEveryMs: 1000, downEveryMs: 500, timeoutMs: 1000 };

/**
 * Asks etcd for one key now and then (a linearizable read: it needs a leader) and tells
 * the DependencyState: an outage is known within about a second even when no request
 * failed yet, and the first answer after it lifts it. `client` must be a client without
 * retries (createEtcdClient({ maxAttempts: 0 })), so a probe fails as fast as etcd does.
 */
export class EtcdProbe {
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    private readonly state: DependencyState,
    private readonly clock: Clock,
    private readonly options: EtcdProbeOptions = defaultEtcdProbe,
  ) {}

  async probe(): Promise<void> {
    try {
      await this.client
        .get(this.keys.es.head('probe'))
        .options({ deadline: this.clock.now() + this.options.timeoutMs })
        .exists();
      this.state.markUp();
    } catch (err) {
      this.state.markDown((err as Error).message);
    }
  }

  start(): void {
    const next = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.probe().finally(next), this.state.up ? this.options.upEveryMs : this.options.downEveryMs);
      this.timer.unref();
    };
    next();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  close(): void {
    this.stop();
    this.client.close();
  }
}
