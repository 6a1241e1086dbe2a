// npm run bench -- build
// A Node.js sample with real npm dependencies (bench/fixtures/build-node: express), built by a
// real builder process end to end (POST /api/v1/.../operations {kind: build} on a real
// api-gateway -> mq -> clone -> detect -> BuildKit -> push -> VersionRecorded seen on the event
// store's feed), cold, warm with
// no change and warm after a source-only change; each against plain `docker build` (Debian's
// 20.10 CLI with BuildKit, the same engine) of the same generated Dockerfile, and `docker push`
// of that image to the same registry, in the same run. Cold builds are cold for both: each
// component has its own cache mount id, so its dependency step is new to BuildKit's cache.
// Stack images are made before (they are built once per recipe and reused). The sample is
// served over HTTPS (`git http-backend`, a certificate from a CA of its own that the builder's
// CA bundle holds), as git hosts serve repositories; BENCH_GIT=daemon serves it with
// `git daemon` (git://) instead, whose small writes meet TCP's delayed ACK on loopback (two
// ~40 ms stalls per protocol v2 clone, seen with GIT_TRACE_PACKET).
// Everything is on 127.0.0.1 and bounded in count and time. The JSON line is printed last.
// BENCH_TIMELINE=1 prints every build's event-log entries with their times from the API call.
import type { eventsV1 } from '@wharf/contracts';
import { createEtcdClient } from '@wharf/etcd';
import { EtcdEventStore, type RecordedEvent } from '@wharf/event-store';
import { startApiGateway, startBuilder, startEtcd, startEventLog, startGitDaemon, startGitHttpServer, startMq, startRegistry } from '@wharf/testing';
import Docker from 'dockerode';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildkitAdapter } from '../services/builder/src/adapters/buildkit.adapter';
import { hostDebian } from '../services/builder/src/adapters/host-apt.adapter';
import { childEnv, runProcess } from '../services/builder/src/adapters/process.adapter';
import { StackImagesAdapter } from '../services/builder/src/adapters/stack-images.adapter';
import { readRepoFiles } from '../services/builder/src/adapters/workspace.adapter';
import { CA_SECRET_ID, generateDockerfile } from '../services/builder/src/domain/dockerfile';
import { cacheScopeOf } from '../services/builder/src/domain/image-ref';

const FIXTURE = join(__dirname, 'fixtures', 'build-node');
const CA = '/etc/ssl/certs/ca-certificates.crt';
const CLI = '/usr/bin/docker';
const SOCKET = process.env.WHARF_DOCKER_SOCKET ?? '/var/run/docker.sock';
const WORK = '/var/tmp/wharf-builder-bench';
const COLD_ROUNDS = 2;
const WARM_ROUNDS = 3;
const BUILD_CAP_MS = 300_000;
// Plain `docker build` runs its RUN steps without a CPU limit, so the builder does too here: the ratios
// are the platform's overhead at equal resources. The builder's default (WHARF_BUILDER_CPUS=1 per RUN
// step) is a fairness policy, and on a 2-core machine it alone makes a parallel `npm install` slower.
const BUILDER_CPUS = process.env.BENCH_BUILDER_CPUS ?? '0';
const GIT_TRANSPORT = process.env.BENCH_GIT === 'daemon' ? 'daemon' : 'https';

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  const load0 = loadavg();
  const run = Date.now().toString(36);
  mkdirSync(WORK, { recursive: true });
  const docker = new Docker({ socketPath: SOCKET });
  const etcd = await startEtcd();
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-build-bench-'));
  const [mq, eventLog, registry, git] = await Promise.all([startMq(etcd), startEventLog(etcd, join(dataDir, 'eventlog')), startRegistry(), startGitDaemon()]);
  // The repositories live in the daemon's directory; over HTTP, git http-backend serves that directory.
  const gitHttp = GIT_TRANSPORT === 'https' ? await startGitHttpServer({ projectRoot: git.dir, tls: true }) : undefined;
  // The CAs builds trust, plus the git host's: what an operator with a private git host configures.
  const caBundle = join(dataDir, 'ca-bundle.crt');
  writeFileSync(caBundle, `${readFileSync(CA, 'utf8')}\n${gitHttp?.caPem ?? ''}`);
  const gitUrl = (name: string) => gitHttp?.url(name) ?? git.url(name);
  const client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  const store = new EtcdEventStore({ client });
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    log('bench: making sure the nodejs stack image exists (built once, reused; not measured)');
    const buildkit = new BuildkitAdapter({ dockerCli: CLI, dockerSocket: SOCKET, marker: () => 'bench', scratchDir: WORK });
    const stack = await new StackImagesAdapter({ docker, buildkit, ...hostDebian(), workDir: WORK }).ensure('nodejs', (l) => log(l));
    const builder = await startBuilder(etcd, {
      WHARF_MQ_ADDR: mq.grpc,
      WHARF_EVENTLOG_ADDR: eventLog.grpc,
      WHARF_BUILDER_REGISTRY: registry.address,
      WHARF_BUILDER_REGISTRY_USERNAME: registry.username,
      WHARF_BUILDER_REGISTRY_PASSWORD: registry.password,
      WHARF_BUILDER_WORK_DIR: WORK,
      WHARF_BUILDER_CONCURRENCY: '1',
      WHARF_BUILDER_CPUS: BUILDER_CPUS,
      WHARF_BUILDER_CA_BUNDLE: caBundle,
    });
    log(`bench: builder RUN steps limited to ${BUILDER_CPUS === '0' ? 'no CPU limit (as plain docker build)' : `${BUILDER_CPUS} CPUs`}`);
    cleanup.push(() => builder.stop());
    const api = await startApiGateway(etcd, mq.grpc, { WHARF_EVENTLOG_ADDR: eventLog.grpc });
    cleanup.push(() => api.stop());
    const call = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
      const res = await fetch(`${api.url}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = (await res.json()) as Record<string, unknown>;
      if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(answer)}`);
      return answer;
    };

    // VersionRecorded as it reaches the feed: when "the Version is recorded" for a client.
    const recorded = new Map<string, number>();
    const sub = store.subscribe(await store.head(), (e: RecordedEvent) => {
      if (e.type === 'wharf.events.v1.VersionRecorded') recorded.set((e.message as eventsV1.VersionRecorded).buildEventId, performance.now());
    });
    cleanup.push(() => sub.close());

    const tenant = `bench${run}`;
    await call('/tenants', { name: tenant });
    const app = (await call(`/tenants/${tenant}/apps`, { name: 'app' })).id as string;
    const newComponent = async (name: string) => {
      git.publish(name, FIXTURE);
      const c = await call(`/tenants/${tenant}/apps/${app}/components`, {
        name,
        source: { git: { url: gitUrl(name), branch: 'main' } },
        ports: [{ port: 8080, protocol: 'http' }],
      });
      return c.id as string;
    };
    /** Seconds per step of an operation, from event-log's stored times of its step entries. */
    const stepTimes = async (eventId: string): Promise<Record<string, number>> => {
      const res = await fetch(`${eventLog.url}/api/v1/operations/${eventId}/entries?limit=5000`, { headers: { authorization: `Bearer ${api.adminToken}` } });
      const body = (await res.json()) as { entries: { type: string; step?: string; stored_ms: number }[] };
      const started = new Map<string, number>();
      const out: Record<string, number> = {};
      for (const e of body.entries) {
        if (e.type === 'step_started' && e.step) started.set(e.step, e.stored_ms);
        if (e.type === 'step_finished' && e.step && started.has(e.step)) out[e.step] = r3((e.stored_ms - started.get(e.step)!) / 1000);
      }
      return out;
    };
    const lastEvent: { id?: string } = {};
    /** Ours: from the API call (POST .../operations {kind: build}) to the Version on the event store's feed. */
    const ours = async (componentId: string): Promise<number> => {
      const t0 = performance.now();
      const w0 = Date.now();
      const eventId = (await call(`/tenants/${tenant}/components/${componentId}/operations`, { kind: 'build' })).event_id as string;
      lastEvent.id = eventId;
      for (const deadline = t0 + BUILD_CAP_MS; !recorded.has(eventId);) {
        if (performance.now() > deadline) throw new Error(`build ${eventId} recorded no version within ${BUILD_CAP_MS} ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
      // The operation is over (event-log's final status folded) before the next build is asked for.
      for (const deadline = performance.now() + 30_000; performance.now() < deadline;) {
        const res = await fetch(`${api.url}/api/v1/tenants/${tenant}/operations/${eventId}`, { headers: { authorization: `Bearer ${api.adminToken}` } });
        if (((await res.json()) as { status?: string }).status === 'success') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      if (process.env.BENCH_TIMELINE) {
        const res = await fetch(`${eventLog.url}/api/v1/operations/${eventId}/entries?limit=5000`, { headers: { authorization: `Bearer ${api.adminToken}` } });
        const body = (await res.json()) as { entries: { type: string; step?: string; text?: string; stored_ms: number; time_ms?: number }[] };
        log(`bench: timeline of ${eventId} (ms from the API call; recorded at +${Math.round(recorded.get(eventId)! - t0)})`);
        for (const e of body.entries) log(`  +${(e.time_ms || e.stored_ms) - w0} ${e.type} ${e.step ?? ''} ${(e.text ?? '').slice(0, 70)}`);
      }
      return (recorded.get(eventId)! - t0) / 1000;
    };

    // Plain docker: the same generated Dockerfile (its own component's cache id), the same context, secret and engine.
    const config = mkdtempSync(join(WORK, 'plain-config-'));
    writeFileSync(
      join(config, 'config.json'),
      JSON.stringify({ auths: { [registry.address]: { auth: Buffer.from(`${registry.username}:${registry.password}`).toString('base64') } } }),
    );
    cleanup.push(async () => rmSync(config, { recursive: true, force: true }));
    const plainContext = (name: string) => {
      const dir = mkdtempSync(join(WORK, `plain-${name}-`));
      cpSync(FIXTURE, join(dir, 'ctx'), { recursive: true });
      const generated = generateDockerfile({
        stack: 'nodejs',
        files: readRepoFiles(join(dir, 'ctx')),
        images: { build: stack.ref, run: stack.ref },
        cacheScope: cacheScopeOf(tenant, `plain-${name}`),
        port: 8080,
      });
      writeFileSync(join(dir, 'Dockerfile'), generated.dockerfile);
      writeFileSync(join(dir, 'ctx', '.dockerignore'), generated.dockerignore);
      cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
      return dir;
    };
    const plain = async (dir: string, tag: string): Promise<{ build: number; push: number }> => {
      const env = childEnv(dir, { DOCKER_BUILDKIT: '1', DOCKER_HOST: `unix://${SOCKET}`, DOCKER_CONFIG: config });
      const ref = `${registry.address}/${tenant}/plain:${tag}`;
      const t0 = performance.now();
      const b = await runProcess(
        CLI,
        ['build', '--progress=plain', '--secret', `id=${CA_SECRET_ID},src=${CA}`, '-f', join(dir, 'Dockerfile'), '-t', ref, join(dir, 'ctx')],
        { env },
      );
      const t1 = performance.now();
      if (b.code !== 0) throw new Error(`plain docker build failed (${b.code})`);
      const p = await runProcess(CLI, ['push', ref], { env });
      const t2 = performance.now();
      if (p.code !== 0) throw new Error(`plain docker push failed (${p.code})`);
      cleanup.push(() =>
        docker
          .getImage(ref)
          .remove({ force: true })
          .catch(() => undefined),
      );
      return { build: (t1 - t0) / 1000, push: (t2 - t1) / 1000 };
    };

    log('bench: warm-up (the stack layers reach the registry once; not measured)');
    await ours(await newComponent('warmup'));
    await plain(plainContext('warmup'), 'warmup');

    const cold = { ours: [] as number[], build: [] as number[], push: [] as number[] };
    const comps: { ours: string; repo: string; plain: string }[] = [];
    for (let i = 0; i < COLD_ROUNDS; i++) {
      const c = { ours: await newComponent(`a${i}`), repo: `a${i}`, plain: plainContext(`b${i}`) };
      comps.push(c);
      // Alternate who goes first, so neither always meets a warmer npm registry or machine.
      const order = i % 2 === 0 ? ['ours', 'plain'] : ['plain', 'ours'];
      for (const who of order) {
        if (who === 'ours') cold.ours.push(await ours(c.ours));
        else {
          const p = await plain(c.plain, `cold${i}`);
          cold.build.push(p.build);
          cold.push.push(p.push);
        }
      }
      log(`bench: cold round ${i + 1} steps: ${JSON.stringify(await stepTimes(lastEvent.id!))}`);
      log(`bench: cold round ${i + 1}: ours ${r3(cold.ours[i])} s, docker build ${r3(cold.build[i])} s + push ${r3(cold.push[i])} s`);
    }

    const [c] = comps;
    const nochange = { ours: [] as number[], build: [] as number[], push: [] as number[] };
    const source = { ours: [] as number[], build: [] as number[], push: [] as number[] };
    const server = readFileSync(join(FIXTURE, 'server.js'), 'utf8');
    for (let i = 0; i < WARM_ROUNDS; i++) {
      nochange.ours.push(await ours(c.ours));
      const p = await plain(c.plain, `nochange${i}`);
      nochange.build.push(p.build);
      nochange.push.push(p.push);
    }
    for (let i = 0; i < WARM_ROUNDS; i++) {
      const changed = server.replace("'v0'", `'v${i + 1}'`);
      git.change(c.repo, { 'server.js': changed });
      source.ours.push(await ours(c.ours));
      writeFileSync(join(c.plain, 'ctx', 'server.js'), changed);
      const p = await plain(c.plain, `source${i}`);
      source.build.push(p.build);
      source.push.push(p.push);
    }
    const sourceSteps = await stepTimes(lastEvent.id!);
    log(`bench: warm source change steps (last): ${JSON.stringify(sourceSteps)}`);
    log(
      `bench: warm no change: ours ${nochange.ours.map(r3).join(', ')} s; docker build ${nochange.build.map(r3).join(', ')} s; push ${nochange.push.map(r3).join(', ')} s`,
    );
    log(
      `bench: warm source change: ours ${source.ours.map(r3).join(', ')} s; docker build ${source.build.map(r3).join(', ')} s; push ${source.push.map(r3).join(', ')} s`,
    );

    const coldOurs = mean(cold.ours);
    const coldBuild = mean(cold.build);
    const coldPush = mean(cold.push);
    const warmSource = median(source.ours);
    const warmBuild = median(source.build);
    const warmPush = median(source.push);
    const result = {
      bench: 'build',
      // Against plain `docker build` of the same Dockerfile plus `docker push` of the image: what
      // getting the same image into the same registry by hand takes.
      cold_ratio: r3(coldOurs / (coldBuild + coldPush)),
      warm_ratio: r3(warmSource / (warmBuild + warmPush)),
      warm_nochange_s: r3(median(nochange.ours)),
      warm_source_s: r3(warmSource),
      cold_s: r3(coldOurs),
      // Against `docker build` alone.
      cold_ratio_build_only: r3(coldOurs / coldBuild),
      warm_ratio_build_only: r3(warmSource / warmBuild),
      warm_nochange_ratio: r3(median(nochange.ours) / (median(nochange.build) + median(nochange.push))),
      source_steps_s: sourceSteps,
      builder_cpus: Number(BUILDER_CPUS),
      git_transport: GIT_TRANSPORT,
      plain_cold_build_s: r3(coldBuild),
      plain_cold_push_s: r3(coldPush),
      plain_nochange_build_s: r3(median(nochange.build)),
      plain_nochange_push_s: r3(median(nochange.push)),
      plain_source_build_s: r3(warmBuild),
      plain_source_push_s: r3(warmPush),
      load_before: load0.map((x) => Math.round(x * 100) / 100),
      load_after: loadavg().map((x) => Math.round(x * 100) / 100),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const f of cleanup.reverse()) await f().catch(() => undefined);
    await Promise.allSettled([mq.stop(), eventLog.stop(), registry.destroy(), git.stop(), gitHttp?.stop()]);
    client.close();
    await etcd.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
