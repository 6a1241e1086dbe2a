// npm run bench -- deploy [-- --runtime docker|kubernetes]   (kubernetes: see deploy-kubernetes.ts)
// In one run, against the machine's Docker Engine and a real data center (etcd, mq, event-log,
// api-gateway, app-manager as processes on free 127.0.0.1 ports):
//   wharf_ms       the API's deploy call (image already on the engine) -> first HTTP 200 from the new replica
//   docker_run_ms  `docker run -d` of the same image on a network of its own + wait for its first HTTP 200
//   scale10_ms     the API's scale 0 -> 10 call -> 10 replicas ready (in the endpoints)
//   upgrade3_ms    the API's upgrade call on 3 replicas -> the operation's success (3 new ready, 3 old gone)
// wharf_ms and docker_run_ms alternate over ROUNDS and the medians are compared (the machine is
// shared: one-off runs swing by a lot). Everything is bounded in count and time; only this run's
// containers (its own data-center label) are touched. The JSON line is printed last.
import { create } from '@bufbuild/protobuf';
import { eventlogV1 } from '@wharf/contracts';
import { createEtcdClient, KeyLayout } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { createClient } from '@wharf/grpc';
import { LABEL } from '@wharf/runtime';
import { clientSecurity, dockerClient, httpTestImage, startApiGateway, startAppManager, startEtcd, startEventLog, startMq } from '@wharf/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kubernetesDeployBench } from './deploy-kubernetes';
import { benchApi, benchComponents, get, log, median, until as untilWithin } from './deploy-common';

const ROUNDS = 5;
const CAP_MS = 60_000;
const run = promisify(execFile);

/** until() bounded by this bench's cap. */
function until<T>(what: string, probe: () => Promise<T | undefined>, everyMs = 5): Promise<T> {
  return untilWithin(what, probe, everyMs, CAP_MS);
}

async function main(): Promise<void> {
  const runId = `bench${process.pid.toString(36)}`;
  const dataCenter = runId;
  const docker = dockerClient();
  const image = `wharf-test/${runId}-web:1`;
  const image2 = `wharf-test/${runId}-web:2`;
  await httpTestImage(docker, image, 'one');
  await httpTestImage(docker, image2, 'two');
  const etcd = await startEtcd();
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-eventlog-'));
  const mq = await startMq(etcd);
  const eventLog = await startEventLog(etcd, dir);
  const gateway = await startApiGateway(etcd, mq.grpc, { WHARF_EVENTLOG_ADDR: eventLog.grpc });
  const am = await startAppManager(etcd, mq.grpc, eventLog.grpc, { WHARF_DATA_CENTER: dataCenter, WHARF_DOCKER_NAME_PREFIX: runId });
  const client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  const keys = new KeyLayout();
  const store = new EtcdEventStore({ client, keys });
  const token = gateway.adminToken!;
  const api = benchApi(gateway.url, token, CAP_MS);
  const { call, operate, finished } = api;
  const containers = (componentId: string) =>
    docker.listContainers({ all: true, filters: { label: [`${LABEL.dataCenter}=${dataCenter}`, `${LABEL.componentId}=${componentId}`] } });
  const { readyEndpoints, component } = benchComponents({
    api,
    client,
    keys,
    store,
    versions: [
      ['v1', image],
      ['v2', image2],
    ],
    capMs: CAP_MS,
  });
  /**
   * An operation's lines with event-log's times. Prints them (from t0) with DEPLOY_BENCH_TIMELINE=1,
   * and returns each new replica's start + first passing probe: from its "creating replica" line
   * to its "is ready" line (with surge 1 they come in the same order).
   */
  const startToReady = async (eventId: string, t0Epoch: number): Promise<number[]> => {
    const logClient = createClient(eventlogV1.EventLogService, eventLog.grpc, { security: clientSecurity(etcd, 'admin') });
    const res = await logClient.read(create(eventlogV1.ReadRequestSchema, { eventId, limit: 1000 }));
    logClient.close();
    const creating: number[] = [];
    const ready: number[] = [];
    for (const e of res.entries) {
      const text = e.body.case === 'line' ? e.body.value.text : e.body.case;
      const at = e.body.case === 'line' ? Number(e.body.value.timeMs) : Number(e.storedMs);
      if (process.env.DEPLOY_BENCH_TIMELINE) log(`  +${at - t0Epoch} ms ${text}`);
      if (/^creating replica \d+\/\d+ of v2/.test(text ?? '')) creating.push(at);
      if (/\(v2\) is ready: its probe passed$/.test(text ?? '')) ready.push(at);
    }
    return creating.map((c, i) => (ready[i] ?? c) - c);
  };

  try {
    await call('POST', '/tenants', { name: 'bench' });
    await call('POST', '/tenants/bench/apps', { name: 'web' });
    const network = `${runId}-baseline`;
    await docker.createNetwork({ Name: network, Labels: { [LABEL.dataCenter]: dataCenter } });

    const wharf: number[] = [];
    const baseline: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // docker run + wait for the first 200, as a person would do it.
      let t0 = performance.now();
      const { stdout } = await run('/usr/bin/docker', ['run', '-d', '--network', network, '--label', `${LABEL.dataCenter}=${dataCenter}`, image]);
      const cid = stdout.trim();
      const ip = (await docker.getContainer(cid).inspect()).NetworkSettings.Networks[network].IPAddress;
      await until('docker run answering', async () => ((await get(ip, 8080)) === 200 ? true : undefined));
      baseline.push(performance.now() - t0);
      await docker.getContainer(cid).remove({ force: true });

      // The same through Wharf: the API's deploy call to the first 200 from the new replica.
      const id = await component(`r${round}`, 1);
      t0 = performance.now();
      await operate(id, { kind: 'deploy', version_id: 'v1' });
      const address = await until('the replica to exist', async () => {
        const [c] = await containers(id);
        const net = c && Object.values(c.NetworkSettings.Networks)[0];
        return net?.IPAddress ? net.IPAddress : undefined;
      });
      await until('the replica answering', async () => ((await get(address, 8080)) === 200 ? true : undefined));
      wharf.push(performance.now() - t0);
      log(`round ${round + 1}: docker run ${Math.round(baseline.at(-1)!)} ms, wharf ${Math.round(wharf.at(-1)!)} ms`);
    }

    // Scale 0 -> 10 ready.
    const scaled = await component('scale', 0);
    await finished(await operate(scaled, { kind: 'deploy', version_id: 'v1' }));
    let t0 = performance.now();
    await operate(scaled, { kind: 'scale', replicas: 10 });
    await until('10 ready replicas', async () => ((await readyEndpoints(scaled)) >= 10 ? true : undefined), 20);
    const scale10 = performance.now() - t0;
    log(`scale 0 -> 10 ready: ${Math.round(scale10)} ms`);

    // Rolling upgrade of 3 replicas (surge 1, unavailable 0).
    const rolled = await component('roll', 3);
    await finished(await operate(rolled, { kind: 'deploy', version_id: 'v1' }));
    t0 = performance.now();
    const t0Epoch = Date.now();
    const upgrade = await operate(rolled, { kind: 'upgrade', version_id: 'v2' });
    await finished(upgrade);
    const upgrade3 = performance.now() - t0;
    const perReplica = await startToReady(upgrade, t0Epoch);
    const replicaMs = Math.round(perReplica.reduce((a, b) => a + b, 0) / Math.max(1, perReplica.length));
    log(`upgrade of 3: ${Math.round(upgrade3)} ms; each new replica's start + first passing probe: ${perReplica.map(Math.round).join(', ')} ms`);

    const wharfMs = Math.round(median(wharf));
    const dockerMs = Math.round(median(baseline));
    const result = {
      bench: 'deploy',
      wharf_ms: wharfMs,
      docker_run_ms: dockerMs,
      ratio: Math.round((wharfMs / dockerMs) * 100) / 100,
      scale10_ms: Math.round(scale10),
      upgrade3_ms: Math.round(upgrade3),
      // The target for upgrade3_ms: 3 x (one replica's start + its first passing probe, as measured
      // in this very upgrade, from app-manager's creating line to its ready line) + 2 s.
      replica_start_probe_ms: replicaMs,
      upgrade3_target_ms: 3 * replicaMs + 2000,
      rounds: ROUNDS,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await am.stop();
    await gateway.stop();
    await eventLog.stop();
    await mq.stop();
    client.close();
    await etcd.destroy();
    rmSync(dir, { recursive: true, force: true });
    const filters = { label: [`${LABEL.dataCenter}=${dataCenter}`] };
    for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true, v: true });
    for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove();
    for (const img of [image, image2]) await docker.getImage(img).remove({ force: true });
  }
}

/** `--runtime docker|kubernetes` (docker by default); npm's own `--` separators are skipped. */
function runtimeOf(argv: readonly string[]): 'docker' | 'kubernetes' {
  const args = argv.filter((a) => a !== '--');
  let runtime = 'docker';
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runtime' && args[i + 1]) runtime = args[++i];
    else if (args[i].startsWith('--runtime=')) runtime = args[i].slice('--runtime='.length);
    else throw new Error(`bench deploy: unknown argument ${JSON.stringify(args[i])} (usage: npm run bench -- deploy [-- --runtime docker|kubernetes])`);
  }
  if (runtime !== 'docker' && runtime !== 'kubernetes') throw new Error(`bench deploy: --runtime ${JSON.stringify(runtime)}: expected docker or kubernetes`);
  return runtime;
}

let runtime: 'docker' | 'kubernetes';
try {
  runtime = runtimeOf(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}

(runtime === 'kubernetes' ? kubernetesDeployBench() : main()).then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
