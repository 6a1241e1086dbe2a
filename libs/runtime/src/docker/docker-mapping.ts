import type Docker from 'dockerode';
import { fromLabels, LABEL, toLabels } from '../labels';
import type { ReplicaLogLine, ReplicaPhase, ReplicaSpec, ReplicaState, ReplicaUsage } from '../runtime-driver';

/**
 * Pure translations between the port's types and the Docker Engine API (1.41): what a
 * ReplicaSpec becomes in a create call, and what an inspected container means.
 */

export interface DockerNaming {
  /** Tenant network name. */
  network: string;
  /** Volume name of each spec volume, by the volume's name. */
  volumes: Record<string, string>;
  /** Host IP that published ports bind to. */
  publishHost: string;
}

export function createOptions(spec: ReplicaSpec, name: string, naming: DockerNaming): Docker.ContainerCreateOptions {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of spec.ports) {
    exposed[`${p.port}/tcp`] = {};
    if (p.hostPort) bindings[`${p.port}/tcp`] = [{ HostIp: naming.publishHost, HostPort: String(p.hostPort) }];
  }
  const memory = spec.memoryMib * 1024 * 1024;
  return {
    name,
    Image: spec.image,
    Env: spec.env.map((e) => `${e.name}=${e.value}`),
    Labels: toLabels(spec.labels),
    ExposedPorts: exposed,
    StopTimeout: Math.max(1, Math.ceil(spec.stopGraceMs / 1000)),
    HostConfig: {
      NetworkMode: naming.network,
      ...(spec.cpuMillis > 0 ? { NanoCpus: spec.cpuMillis * 1_000_000 } : {}),
      // Swap as large as memory: the limit is the limit, a process beyond it is OOM killed.
      ...(memory > 0 ? { Memory: memory, MemorySwap: memory } : {}),
      PortBindings: bindings,
      Mounts: spec.volumes.map((v) => ({ Type: 'volume' as const, Source: naming.volumes[v.name], Target: v.mountPath })),
      // app-manager replaces crashed replicas itself, with its own back-off and reasons.
      RestartPolicy: { Name: 'no' },
      // A tiny init as PID 1 (Docker's tini): SIGTERM reaches the app even if it installed no handler, and zombies are reaped.
      Init: true,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: 4096,
    },
    NetworkingConfig: { EndpointsConfig: { [naming.network]: { Aliases: spec.aliases } } },
  };
}

const phases: Record<string, ReplicaPhase> = {
  created: 'creating',
  running: 'running',
  restarting: 'running',
  paused: 'paused',
  exited: 'exited',
  dead: 'dead',
  removing: 'removing',
};

const time = (s: string | undefined) => {
  const ms = s ? Date.parse(s) : NaN;
  // Docker says 0001-01-01T00:00:00Z for "never".
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
};

/** The replica an inspected container is, or undefined when it is not one of ours. */
export function replicaFromInspect(info: Docker.ContainerInspectInfo, network: string, node: string): ReplicaState | undefined {
  const labels = fromLabels(info.Config?.Labels);
  if (!labels) return undefined;
  const s = info.State;
  const hostPorts: ReplicaState['hostPorts'] = [];
  for (const [key, binds] of Object.entries(info.HostConfig?.PortBindings ?? {}) as [string, { HostPort?: string }[] | null][]) {
    for (const b of binds ?? []) if (b.HostPort) hostPorts.push({ port: Number(key.split('/')[0]), hostPort: Number(b.HostPort) });
  }
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    labels,
    phase: phases[s.Status] ?? 'dead',
    ...(s.Status === 'exited' || s.Status === 'dead' ? { exitCode: s.ExitCode } : {}),
    ...(s.OOMKilled ? { oomKilled: true } : {}),
    ...(s.Error ? { error: s.Error } : {}),
    startedAtMs: time(s.StartedAt),
    finishedAtMs: time(s.FinishedAt),
    address: info.NetworkSettings?.Networks?.[network]?.IPAddress ?? '',
    node,
    hostPorts,
  };
}

/** A container of the list call, before inspecting it: enough to tell whether it changed. */
export function listKey(c: Docker.ContainerInfo): string {
  return `${c.Id}:${c.State}`;
}

export function isOurs(c: { Labels?: Record<string, string> }, dataCenter: string): boolean {
  return c.Labels?.[LABEL.dataCenter] === dataCenter;
}

/**
 * Splits a non-TTY log stream (8-byte frame headers: stream, 0, 0, 0, size BE32) into
 * timestamped lines. Feed chunks; partial frames and lines wait for the next chunk.
 */
export class DockerLogDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  private partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };

  push(chunk: Buffer): ReplicaLogLine[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: ReplicaLogLine[] = [];
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const stream = this.pending[0] === 2 ? 'stderr' : 'stdout';
      const text = this.partial[stream] + this.pending.subarray(8, 8 + size).toString('utf8');
      this.pending = this.pending.subarray(8 + size);
      const lines = text.split('\n');
      this.partial[stream] = lines.pop() ?? '';
      for (const line of lines) out.push(parseTimestamped(line, stream));
    }
    return out;
  }

  /** What is left at the end of the stream (a last line without a newline). */
  end(): ReplicaLogLine[] {
    const out: ReplicaLogLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) if (this.partial[stream]) out.push(parseTimestamped(this.partial[stream], stream));
    this.partial = { stdout: '', stderr: '' };
    return out;
  }
}

/** "2024-05-01T10:00:00.123456789Z text" (timestamps=true) -> a line. */
export function parseTimestamped(line: string, stream: 'stdout' | 'stderr'): ReplicaLogLine {
  const space = line.indexOf(' ');
  const ms = space > 0 ? Date.parse(line.slice(0, space)) : NaN;
  if (!Number.isFinite(ms)) return { timeMs: 0, stream, text: line.replace(/\r$/, '') };
  return { timeMs: ms, stream, text: line.slice(space + 1).replace(/\r$/, '') };
}

/** cpu use from one stats reading (which carries the previous sample), in millicores. */
export function usageFromStats(stats: Docker.ContainerStats): ReplicaUsage {
  const cpuDelta = stats.cpu_stats.cpu_usage.total_usage - (stats.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (stats.cpu_stats.system_cpu_usage ?? 0) - (stats.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = stats.cpu_stats.online_cpus || stats.cpu_stats.cpu_usage.percpu_usage?.length || 1;
  const cpuMillis = systemDelta > 0 && cpuDelta > 0 ? Math.round((cpuDelta / systemDelta) * cpus * 1000) : 0;
  // As `docker stats` shows it: page cache the kernel can drop is not counted.
  const cache = (stats.memory_stats.stats as Record<string, number> | undefined)?.inactive_file ?? 0;
  return { cpuMillis, memoryBytes: Math.max(0, (stats.memory_stats.usage ?? 0) - cache), memoryLimitBytes: stats.memory_stats.limit ?? 0 };
}
