import { existsSync, readdirSync, readFileSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

export interface BuildLimits {
  memoryBytes: number;
  /** CPUs (e.g. 1.5); 0 = no limit. */
  cpus: number;
}

export interface LimitReport {
  /** RUN containers of the build the limits were applied to. */
  limited: number;
  /** A RUN container of the build was killed by the kernel for exceeding its memory limit. */
  oomKilled: boolean;
}

export interface LimitTracker {
  stop(): LimitReport;
}

/**
 * Enforces cpu and memory limits on the RUN steps of builds. Docker 20.10's BuildKit ignores
 * `docker build --memory/--cpu-*` and `--cgroup-parent`: every RUN container gets a cgroup of
 * its own under <root>/docker/buildkit/<id>, shared by every build on the engine. So this
 * watches that directory, recognises a build's containers by a marker in their environment
 * (passed as the no_proxy build argument, which BuildKit exports to every RUN and keeps out
 * of the cache key) and writes the limits into their cgroups, then watches for OOM kills.
 * Limits take effect a few milliseconds after a RUN process starts (the time to see its
 * cgroup and read its environment), not before its first instruction.
 */
export class CgroupLimiter {
  private watcher?: FSWatcher;
  private poller?: NodeJS.Timeout;
  private readonly builds = new Map<string, { limits: BuildLimits; report: LimitReport; cgroups: Set<string> }>();
  private readonly seen = new Set<string>();
  private readonly layout: { version: 1 | 2; memoryDir: string; cpuDir: string } | undefined;

  constructor(private readonly options: { cgroupRoot?: string; buildkitPath?: string; onWarning?: (message: string) => void } = {}) {
    const root = options.cgroupRoot ?? '/sys/fs/cgroup';
    const rel = options.buildkitPath ?? 'docker/buildkit';
    if (existsSync(join(root, 'cgroup.controllers'))) this.layout = { version: 2, memoryDir: join(root, rel), cpuDir: join(root, rel) };
    else if (existsSync(join(root, 'memory'))) this.layout = { version: 1, memoryDir: join(root, 'memory', rel), cpuDir: join(root, 'cpu', rel) };
  }

  /** Whether limits can be enforced on this machine (a cgroup hierarchy we can see). */
  get available(): boolean {
    return this.layout !== undefined;
  }

  get description(): string {
    return this.layout ? `cgroup v${this.layout.version} at ${this.layout.memoryDir}` : 'no cgroup hierarchy found';
  }

  /** Starts applying `limits` to RUN containers whose environment holds `marker`. */
  track(marker: string, limits: BuildLimits): LimitTracker {
    const entry = { limits, report: { limited: 0, oomKilled: false }, cgroups: new Set<string>() };
    this.builds.set(marker, entry);
    this.start();
    return {
      stop: () => {
        this.check(entry);
        this.builds.delete(marker);
        if (this.builds.size === 0) this.halt();
        return { ...entry.report };
      },
    };
  }

  private start(): void {
    if (!this.layout || this.poller) return;
    const dir = this.layout.memoryDir;
    try {
      // A new cgroup directory is a new RUN container; the poller covers events fs.watch misses.
      this.watcher = watch(dir, () => this.scan());
    } catch (err) {
      this.options.onWarning?.(`cannot watch ${dir} (${(err as Error).message}); polling it`);
    }
    this.poller = setInterval(() => this.scan(), 25);
    this.poller.unref();
  }

  private halt(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
    this.seen.clear();
  }

  private scan(): void {
    if (!this.layout) return;
    let ids: string[];
    try {
      ids = readdirSync(this.layout.memoryDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch {
      return; // no build has run on this engine yet: the directory appears with the first
    }
    const live = new Set(ids);
    for (const id of this.seen) if (!live.has(id)) this.seen.delete(id);
    for (const id of ids) if (!this.seen.has(id)) this.inspect(id);
    for (const entry of this.builds.values()) this.check(entry);
  }

  /** Reads the new cgroup's processes; once one has exec'd into the RUN command, its environment says whose it is. */
  private inspect(id: string): void {
    const dir = join(this.layout!.memoryDir, id);
    const pids = this.read(join(dir, 'cgroup.procs'))?.split('\n').filter(Boolean) ?? [];
    for (const pid of pids) {
      const environ = this.read(`/proc/${pid}/environ`);
      if (environ === undefined) continue;
      const vars = environ.split('\0');
      // runc's own init process is in the cgroup first; its environment is not the container's yet.
      if (!vars.some((v) => v.startsWith('no_proxy=') || v.startsWith('NO_PROXY=') || v.startsWith('PATH='))) continue;
      this.seen.add(id);
      for (const [marker, entry] of this.builds) {
        if (vars.some((v) => (v.startsWith('no_proxy=') || v.startsWith('NO_PROXY=')) && v.includes(marker))) this.apply(id, entry);
      }
      return;
    }
  }

  private apply(id: string, entry: { limits: BuildLimits; report: LimitReport; cgroups: Set<string> }): void {
    const { memoryDir, cpuDir, version } = this.layout!;
    const { memoryBytes, cpus } = entry.limits;
    try {
      if (version === 1) {
        writeFileSync(join(memoryDir, id, 'memory.limit_in_bytes'), String(memoryBytes));
        if (cpus > 0) {
          writeFileSync(join(cpuDir, id, 'cpu.cfs_period_us'), '100000');
          writeFileSync(join(cpuDir, id, 'cpu.cfs_quota_us'), String(Math.round(cpus * 100000)));
        }
      } else {
        writeFileSync(join(memoryDir, id, 'memory.max'), String(memoryBytes));
        writeFileSync(join(memoryDir, id, 'memory.swap.max'), '0');
        if (cpus > 0) writeFileSync(join(cpuDir, id, 'cpu.max'), `${Math.round(cpus * 100000)} 100000`);
      }
      entry.cgroups.add(id);
      entry.report.limited++;
    } catch (err) {
      // The container may have ended already; one that runs on without its limits is reported.
      if (existsSync(join(memoryDir, id))) this.options.onWarning?.(`cannot limit build container ${id}: ${(err as Error).message}`);
    }
  }

  /** Reads the OOM counters of the build's cgroups while they exist (they vanish with their container). */
  private check(entry: { report: LimitReport; cgroups: Set<string> }): void {
    const { memoryDir, version } = this.layout ?? {};
    if (!memoryDir) return;
    for (const id of entry.cgroups) {
      const text = this.read(join(memoryDir, id, version === 1 ? 'memory.oom_control' : 'memory.events'));
      if (text === undefined) {
        entry.cgroups.delete(id);
        continue;
      }
      const kills = /oom_kill (\d+)/.exec(text);
      if (kills && Number(kills[1]) > 0) entry.report.oomKilled = true;
    }
  }

  private read(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  }
}
