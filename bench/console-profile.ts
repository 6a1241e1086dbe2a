// The log view's main thread while lines stream (npm run bench -- console with BENCH_PROFILE=DIR):
// a V8 CPU profile of the page through the DevTools protocol's Profiler domain, saved as
// DIR/log-view.cpuprofile (opens in Chrome DevTools), and the functions that took the most
// self time, summed by function and by script, printed to stderr.
import type { CDPSession } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export async function startProfile(cdp: CDPSession, intervalUs = 250): Promise<void> {
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: intervalUs });
  await cdp.send('Profiler.start');
}

/** Self time (ms) per function and the share of the window each took. */
export function summarize(profile: CpuProfile, top = 25): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  }
  const byFunction = new Map<string, number>();
  const byScript = new Map<string, number>();
  for (const [id, ms] of self) {
    const f = byId.get(id)!.callFrame;
    const script = f.url ? f.url.replace(/^.*\//, '') : f.functionName.startsWith('(') ? f.functionName : '(native)';
    const key = `${f.functionName || '(anonymous)'} ${script}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
    byScript.set(script, (byScript.get(script) ?? 0) + ms);
  }
  const wall = (profile.endTime - profile.startTime) / 1000;
  const line = ([k, ms]: [string, number]) => `${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / wall).toFixed(1).padStart(5)} %  ${k}`;
  return [
    `profile window ${(wall / 1000).toFixed(1)} s; self time by script:`,
    ...[...byScript]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(line),
    'self time by function:',
    ...[...byFunction]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(line),
  ];
}

export async function stopProfile(cdp: CDPSession, dir: string, log: (m: string) => void): Promise<void> {
  const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: CpuProfile };
  const file = join(dir, 'log-view.cpuprofile');
  writeFileSync(file, JSON.stringify(profile));
  log(`CPU profile of the page written to ${file}`);
  for (const l of summarize(profile)) log(l);
}

interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  args?: { name?: string };
}

/**
 * Where the renderer's main thread spent a trace window: time per event name (nested events
 * counted in their own name too, so the lines overlap; RunTask is the whole of each task), the
 * tasks over 16 ms and over 50 ms, and the longest tasks with what they ran.
 */
export function summarizeTrace(buffer: Buffer): string[] {
  const events = (JSON.parse(buffer.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  if (!main) return ['trace: no CrRendererMain thread found'];
  const own = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined);
  const window = (Math.max(...own.map((e) => e.ts + e.dur!)) - Math.min(...own.map((e) => e.ts))) / 1000;
  const byName = new Map<string, { ms: number; n: number }>();
  for (const e of own) {
    const s = byName.get(e.name) ?? { ms: 0, n: 0 };
    s.ms += e.dur! / 1000;
    s.n++;
    byName.set(e.name, s);
  }
  const tasks = own.filter((e) => e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask').sort((a, b) => b.dur! - a.dur!);
  const inside = (t: TraceEvent) =>
    [
      ...new Set(
        own.filter((e) => e !== t && e.ts >= t.ts && e.ts + e.dur! <= t.ts + t.dur! && e.dur! > 1000).map((e) => `${e.name} ${(e.dur! / 1000).toFixed(1)}`),
      ),
    ]
      .slice(0, 8)
      .join(', ');
  return [
    `trace window ${(window / 1000).toFixed(1)} s on the page's main thread; ${tasks.length} tasks, ${tasks.filter((t) => t.dur! > 16_000).length} over 16 ms, ${tasks.filter((t) => t.dur! > 50_000).length} over 50 ms`,
    ...[...byName]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, 20)
      .map(([name, s]) => `${s.ms.toFixed(1).padStart(9)} ms ${((100 * s.ms) / window).toFixed(1).padStart(5)} % ${String(s.n).padStart(7)}x  ${name}`),
    'longest tasks:',
    ...tasks.slice(0, 8).map((t) => `${(t.dur! / 1000).toFixed(1).padStart(7)} ms: ${inside(t)}`),
  ];
}
