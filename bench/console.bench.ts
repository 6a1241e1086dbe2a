// npm run bench -- console
// 1. A list of apps over two data centers through the console, against the same lists straight
//    from each api-gateway (the same calls, the same parallelism), interleaved in one run: p99 of each.
// 2. The web console's log view in real Chromium while 1,000,000 lines stream into one
//    operation at 5,000 lines/s (event-log -> the data center's socket.io -> the console's relay ->
//    the browser): JS heap after a collection at the end, and the p99 of frame times meanwhile.
// The JSON line is printed last. BENCH_LOG_LINES / BENCH_LINES_PER_S / BENCH_LIST_ROUNDS scale it down.
import { EventLogClient } from '@wharf/event-log-client';
import { clientSecurity, launchChromium, startConsole, startDataCenter, startEtcd, type RunningDataCenter } from '@wharf/testing';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { startProfile, stopProfile, summarizeTrace } from './console-profile';

const LOG_LINES = Number(process.env.BENCH_LOG_LINES ?? 1_000_000);
const LINES_PER_S = Number(process.env.BENCH_LINES_PER_S ?? 5000);
const ROUNDS = Number(process.env.BENCH_LIST_ROUNDS ?? 300);
/**
 * A directory: the page's CPU profile from a quarter to half-way through the stream goes there,
 * then a DevTools trace from half-way to three quarters; what they found goes to stderr.
 */
const PROFILE_DIR = process.env.BENCH_PROFILE;
const TENANTS = 5;
const APPS_PER_TENANT = 10;
const log = (msg: string) => process.stderr.write(`${msg}\n`);

const p = (values: number[], q: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

async function json(url: string, token: string, method = 'GET', body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'x-wharf-client': 'cli', ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status >= 400) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** What the console does for GET /api/v1/apps, straight: /me, then every tenant's apps, the data centers in parallel. */
async function directList(dcs: RunningDataCenter[]): Promise<number> {
  const counts = await Promise.all(
    dcs.map(async (dc) => {
      const me = (await json(`${dc.url}/api/v1/me`, dc.adminToken)) as { tenants: { id: string }[] };
      const pages = await Promise.all(me.tenants.map((t) => json(`${dc.url}/api/v1/tenants/${t.id}/apps?limit=200`, dc.adminToken)));
      return pages.reduce((n, page) => n + (page.items as unknown[]).length, 0);
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

async function main(): Promise<void> {
  const etcd = await startEtcd();
  const dcs = await Promise.all([startDataCenter(etcd, 'east'), startDataCenter(etcd, 'west')]);
  const consoleServer = await startConsole(etcd, { WHARF_CONSOLE_ETCD_PREFIX: '/console-bench', WHARF_LOG_LEVEL: 'error' }, 90_000);
  const browser = await launchChromium();
  const producer = new EventLogClient({ address: dcs[0].eventLog.grpc, security: clientSecurity(etcd, 'builder'), maxBufferedLines: 50_000 });
  try {
    for (const dc of dcs)
      for (let t = 0; t < TENANTS; t++) {
        await json(`${dc.url}/api/v1/tenants`, dc.adminToken, 'POST', { name: `team-${t}` });
        for (let a = 0; a < APPS_PER_TENANT; a++) await json(`${dc.url}/api/v1/tenants/team-${t}/apps`, dc.adminToken, 'POST', { name: `app-${a}` });
      }
    const first = consoleServer.firstUser!;
    const session = (await json(`${consoleServer.url}/api/v1/session`, '', 'POST', { name: first.name, password: first.password })) as { token: string };
    for (const dc of dcs)
      await json(`${consoleServer.url}/api/v1/data-centers`, session.token, 'POST', { name: dc.name, api_url: dc.url, token: dc.adminToken });

    // 1. Federated against direct, interleaved so both see the same machine.
    const expected = dcs.length * TENANTS * APPS_PER_TENANT;
    const fed: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < 20; i++) {
      // warm-up
      await directList(dcs);
      await json(`${consoleServer.url}/api/v1/apps`, session.token);
    }
    for (let i = 0; i < ROUNDS; i++) {
      let t = performance.now();
      const n = await directList(dcs);
      direct.push(performance.now() - t);
      t = performance.now();
      const res = (await json(`${consoleServer.url}/api/v1/apps`, session.token)) as { items: unknown[] };
      fed.push(performance.now() - t);
      if (n !== expected || res.items.length !== expected) throw new Error(`lists differ: direct ${n}, federated ${res.items.length}, expected ${expected}`);
    }
    const federatedP99 = p(fed, 0.99);
    const directP99 = p(direct, 0.99);
    log(
      `list of ${expected} apps over 2 data centers, ${ROUNDS} rounds: federated p50 ${round(p(fed, 0.5))} p99 ${round(federatedP99)} ms; direct p50 ${round(p(direct, 0.5))} p99 ${round(directP99)} ms`,
    );

    // 2. The log view while lines stream in.
    const east = dcs[0];
    await json(`${east.url}/api/v1/tenants/team-0/apps/team-0.app-0/components`, east.adminToken, 'POST', { name: 'loud', source: { image: 'busybox' } });
    const op = (await json(`${east.url}/api/v1/tenants/team-0/components/team-0.app-0.loud/operations`, east.adminToken, 'POST', { kind: 'build' })) as {
      event_id: string;
    };
    const dcId = ((await json(`${consoleServer.url}/api/v1/data-centers`, session.token)) as { items: { id: string; name: string }[] }).items.find(
      (d) => d.name === 'east',
    )!.id;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(consoleServer.url);
    await page.fill('input[name=name]', first.name);
    await page.fill('input[name=password]', first.password);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=user]');
    await page.goto(`${consoleServer.url}/#/op/${dcId}/team-0/${op.event_id}`);
    await page.waitForSelector('[data-testid=log-lines]');
    // The machine's floor: frame times of the same page with nothing streaming (other work on the machine delays frames too).
    const idleFrames = (await page.evaluate(`new Promise((resolve) => {
      const out = []; let last = performance.now(); const end = last + 5000;
      const tick = (t) => { out.push(t - last); last = t; if (t < end) requestAnimationFrame(tick); else resolve(out); };
      requestAnimationFrame(tick);
    })`)) as number[];
    // Frame times from the page's own animation frames, for the whole stream.
    // And the main thread's long tasks (> 50 ms), to tell the page's own work from frames a busy machine delayed.
    await page.evaluate(`(() => {
      window.__frames = []; let last = performance.now();
      const tick = (t) => { window.__frames.push(t - last); last = t; if (!window.__stopFrames) requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
      window.__longTasks = [];
      new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); }).observe({ type: 'longtask' });
    })()`);
    const profileCdp = PROFILE_DIR ? await context.newCDPSession(page) : undefined;
    let profiling: 'before' | 'running' | 'tracing' | 'done' = 'before';

    // How much of the page's main thread the stream costs (scripts, layout, tasks), to tell our work from a busy machine.
    const metricsCdp = await context.newCDPSession(page);
    await metricsCdp.send('Performance.enable');
    const metric = async () =>
      Object.fromEntries(
        ((await metricsCdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }).metrics.map((m) => [m.name, m.value]),
      );
    const before = await metric();
    const reporter = producer.operation(op.event_id, { target: 'component/team-0.app-0.loud', tenantId: 'team-0' });
    const step = reporter.step('build');
    const started = performance.now();
    const perTick = Math.max(1, Math.round(LINES_PER_S / 50)); // every 20 ms
    let sent = 0;
    // Paced by the clock (not by the last batch), bounded in count and in time (2x the nominal duration + 60 s).
    const deadline = started + (LOG_LINES / LINES_PER_S) * 2000 + 60_000;
    while (sent < LOG_LINES && performance.now() < deadline) {
      const due = Math.min(LOG_LINES, Math.floor(((performance.now() - started) / 1000) * LINES_PER_S));
      for (; sent < due; sent++) step.line(`line ${sent + 1}: compiling module ${sent % 977} of the build, ${'x'.repeat(sent % 40)}`);
      await producer.drained();
      await new Promise((r) => setTimeout(r, 20 - ((performance.now() - started) % 20)));
      if (sent % (perTick * 500) < perTick) log(`streamed ${sent} lines in ${round((performance.now() - started) / 1000, 1)} s`);
      if (profileCdp && profiling === 'before' && sent >= LOG_LINES / 4) {
        profiling = 'running';
        await startProfile(profileCdp);
      } else if (profileCdp && profiling === 'running' && sent >= LOG_LINES / 2) {
        profiling = 'tracing';
        mkdirSync(PROFILE_DIR!, { recursive: true });
        await stopProfile(profileCdp, PROFILE_DIR!, log);
        await browser.startTracing(page, { path: join(PROFILE_DIR!, 'log-view.trace.json'), categories: ['devtools.timeline', 'v8', 'blink', 'toplevel'] });
      } else if (profiling === 'tracing' && sent >= (LOG_LINES * 3) / 4) {
        profiling = 'done';
        for (const l of summarizeTrace(await browser.stopTracing())) log(l);
      }
    }
    step.ok();
    reporter.done();
    await producer.flush(120_000);
    const streamS = (performance.now() - started) / 1000;
    // Where lines are when the stream ends: stored by event-log (what any follower can get) against shown by the page.
    const storedSeq = async () =>
      ((await json(`${east.url}/api/v1/operations/${op.event_id}/entries?after_seq=0&limit=1`, east.adminToken)) as { operation: { last_seq: number } })
        .operation.last_seq;
    log(`stream ended: event-log has ${await storedSeq()} entries stored, the page shows ${await page.getAttribute('[data-lines]', 'data-lines')}`);
    // The page has every line (its count) within a bounded wait, polled from here (a poll in the page would add work to the frames measured).
    let shown = false;
    for (const until = performance.now() + 120_000; !shown && performance.now() < until; await new Promise((r) => setTimeout(r, 500)))
      shown = Number(await page.getAttribute('[data-lines]', 'data-lines')) >= LOG_LINES;
    const lines = Number(await page.getAttribute('[data-lines]', 'data-lines'));
    log(
      `after the wait: event-log has ${await storedSeq()} entries stored, the page shows ${lines}; ` +
        `the producer dropped ${producer.dropped} lines (its buffer of 50,000 full: event-log took them slower than they came)`,
    );
    const after = await metric();
    const wall = after.Timestamp - before.Timestamp;
    const share = (name: string) => round((100 * (after[name] - before[name])) / wall, 1);
    log(
      `page main thread during the stream: tasks ${share('TaskDuration')} %, script ${share('ScriptDuration')} %, layout ${share('LayoutDuration')} %, style ${share('RecalcStyleDuration')} % of ${round(wall, 1)} s`,
    );
    // CPU time, not wall time: what the page's work costs whatever else the machine runs (frames above are wall time).
    const cpu = (name: string) => after[name] - before[name];
    log(
      `page CPU: main thread ${round(cpu('ThreadTime'), 1)} s, renderer process ${round(cpu('ProcessTime'), 1)} s; ` +
        `${round((1000 * cpu('ThreadTime')) / Math.max(1, lines / 1000), 2)} ms of main thread per 1,000 lines shown; ${cpu('LayoutCount')} layouts`,
    );
    await page.evaluate('window.__stopFrames = true');
    const frames = (await page.evaluate('window.__frames')) as number[];
    const longTasks = (await page.evaluate('window.__longTasks')) as number[];
    const cdp = await context.newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
    // Still responsive after: scroll to the middle and see lines fetched back from history.
    await page.evaluate(`(() => { const el = document.querySelector('[data-testid=log-lines]'); el.scrollTop = el.scrollHeight / 2; })()`);
    // A locator, not waitForFunction with a string: the page's CSP (no 'unsafe-eval') refuses that one's polling.
    const middleShown = await page
      .locator('.log-line:not(.loading)', { hasText: /line \d+:/ })
      .first()
      .waitFor({ timeout: 20_000 })
      .then(() => true)
      .catch(() => false);
    log(
      `log view: ${lines} lines shown (${shown ? 'all' : 'NOT all'}) streamed in ${round(streamS, 1)} s (${round(sent / streamS, 0)} lines/s); ` +
        `${frames.length} frames, p50 ${round(p(frames, 0.5))} p99 ${round(p(frames, 0.99))} max ${round(Math.max(...frames))} ms; heap ${round(heap.usedSize / 2 ** 20, 1)} MiB; ` +
        `middle of the log fetched back: ${middleShown}`,
    );
    log(`idle page (same run, before the stream): ${idleFrames.length} frames, p50 ${round(p(idleFrames, 0.5))} p99 ${round(p(idleFrames, 0.99))} ms`);
    log(
      `long tasks (> 50 ms) on the page's main thread during the stream: ${longTasks.length}` +
        (longTasks.length ? `, p50 ${round(p(longTasks, 0.5))} max ${round(Math.max(...longTasks))} ms` : ''),
    );
    log(
      `machine: ${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const federatedP99r = round(federatedP99);
    const directP99r = round(directP99);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'console',
        federated_p99_ms: federatedP99r,
        direct_p99_ms: directP99r,
        ratio: round(federatedP99 / directP99),
        log_lines: lines,
        heap_mb: round(heap.usedSize / 2 ** 20, 1),
        frame_p99_ms: round(p(frames, 0.99)),
      })}\n`,
    );
  } finally {
    await producer.close();
    await browser.close();
    await consoleServer.stop();
    await Promise.all(dcs.map((d) => d.stop()));
    await etcd.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
