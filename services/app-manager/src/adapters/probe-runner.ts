import type { RuntimeDriver } from '@wharf/runtime';
import type { Clock } from '@wharf/system';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { ProbeSpec } from '../domain/desired';
import { applyProbeResult, healthOf, newProbeState, nextProbeAtMs, type ProbeState } from '../domain/probe-state';

export interface ProbeResult {
  ok: boolean;
  output: string;
}

/** Where and how to probe one replica. */
export interface ProbeTarget {
  id: string;
  componentId: string;
  address: string;
  startedAtMs: number;
  probe: ProbeSpec;
}

/** Runs one probe attempt (the side effect: a socket, an HTTP request, an exec). */
export interface ProbeExecutor {
  run(target: ProbeTarget, timeoutMs: number): Promise<ProbeResult>;
}

const OUTPUT_MAX = 300;
const cut = (s: string) => (s.length > OUTPUT_MAX ? `${s.slice(0, OUTPUT_MAX)}…` : s);

/**
 * Probes as app-manager runs them for the Docker runtime: HTTP GET and TCP connect to the
 * replica's address on its tenant network (the host routes to Docker's bridges), commands
 * through the driver's exec. A replica without probe or port is ready once it has run for
 * minReadyMs.
 */
export class NetworkProbeExecutor implements ProbeExecutor {
  constructor(
    private readonly driver: RuntimeDriver,
    private readonly clock: Clock,
    private readonly minReadyMs: number,
  ) {}

  async run(t: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
    const p = t.probe;
    switch (p.kind) {
      case 'running': {
        const ran = this.clock.now() - t.startedAtMs;
        return ran >= this.minReadyMs ? { ok: true, output: `running for ${ran} ms` } : { ok: false, output: `running for ${ran} ms of ${this.minReadyMs}` };
      }
      case 'command': {
        try {
          const r = await this.driver.exec(t.id, p.command, { timeoutMs });
          return { ok: r.exitCode === 0, output: cut(`exit ${r.exitCode}${r.output ? `: ${r.output}` : ''}`) };
        } catch (err) {
          return { ok: false, output: cut(`cannot run: ${(err as Error).message}`) };
        }
      }
      case 'tcp':
        if (!t.address) return { ok: false, output: 'no address on the tenant network' };
        return tcpProbe(t.address, p.port, timeoutMs);
      case 'http':
        if (!t.address) return { ok: false, output: 'no address on the tenant network' };
        return httpProbe(t.address, p.port, p.path, timeoutMs);
    }
  }
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (r: ProbeResult) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, output: `no connection within ${timeoutMs} ms` }));
    socket.once('connect', () => done({ ok: true, output: 'connected' }));
    socket.once('error', (err) => done({ ok: false, output: cut(err.message) }));
  });
}

function httpProbe(host: string, port: number, path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', timeout: timeoutMs, headers: { 'user-agent': 'wharf-probe', connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < OUTPUT_MAX) body += chunk;
      });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        resolve({ ok: code >= 200 && code < 400, output: cut(`HTTP ${code}${body.trim() ? `: ${body.trim()}` : ''}`) });
      });
      res.on('error', (err) => resolve({ ok: false, output: cut(err.message) }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, output: cut(err.message) }));
    req.end();
  });
}

/**
 * Keeps probing every tracked replica on its own schedule (probe-state.ts decides when and
 * what the results mean) and tells when a replica's health changes. One attempt at a time
 * per replica, each bounded by a timeout.
 */
export class ProbeRunner {
  private readonly tracked = new Map<string, { target: ProbeTarget; state: ProbeState; timer?: NodeJS.Timeout; running: boolean }>();
  private stopped = false;

  constructor(
    private readonly executor: ProbeExecutor,
    private readonly clock: Clock,
    private readonly onChange: (target: ProbeTarget, state: ProbeState) => void,
    private readonly timeoutMs = 1000,
  ) {}

  /** Starts probing a replica (or updates where and how, keeping what is known). */
  track(target: ProbeTarget): void {
    if (this.stopped) return;
    const known = this.tracked.get(target.id);
    if (known) {
      const changed = known.target.address !== target.address || JSON.stringify(known.target.probe) !== JSON.stringify(target.probe);
      known.target = target;
      if (changed && !known.running) this.schedule(target.id);
      return;
    }
    this.tracked.set(target.id, { target, state: newProbeState(target.startedAtMs), running: false });
    this.schedule(target.id);
  }

  state(id: string): ProbeState | undefined {
    return this.tracked.get(id)?.state;
  }

  forget(id: string): void {
    const t = this.tracked.get(id);
    if (t?.timer) clearTimeout(t.timer);
    this.tracked.delete(id);
  }

  /** Forgets every replica of a component except these. */
  retain(componentId: string, ids: Set<string>): void {
    for (const [id, t] of this.tracked) if (t.target.componentId === componentId && !ids.has(id)) this.forget(id);
  }

  stop(): void {
    this.stopped = true;
    for (const id of [...this.tracked.keys()]) this.forget(id);
  }

  private schedule(id: string): void {
    const t = this.tracked.get(id);
    if (!t || this.stopped) return;
    if (t.timer) clearTimeout(t.timer);
    const wait = Math.max(0, nextProbeAtMs(t.state, t.target.probe) - this.clock.now());
    t.timer = setTimeout(() => void this.attempt(id), wait);
    t.timer.unref();
  }

  private async attempt(id: string): Promise<void> {
    const t = this.tracked.get(id);
    if (!t || t.running) return;
    t.running = true;
    let result: ProbeResult;
    try {
      result = await this.executor.run(t.target, Math.min(this.timeoutMs, t.target.probe.periodMs));
    } catch (err) {
      result = { ok: false, output: (err as Error).message };
    } finally {
      t.running = false;
    }
    if (this.tracked.get(id) !== t) return; // forgotten meanwhile
    const before = healthOf(t.state);
    t.state = applyProbeResult(t.state, t.target.probe, result, this.clock.now());
    if (healthOf(t.state) !== before) this.onChange(t.target, t.state);
    this.schedule(id);
  }
}
