// npm run soak: etcd with a small quota under what fills it fastest in a data center: mq
// task round trips (each leaves ~800 bytes of history) and catalog snapshots (each rewrites
// its whole size), enough to fill the quota several times over without compaction, while mq's
// elected maintainer compacts and defragments. Checks that every write is accepted throughout,
// that the database size stays under the quota, and that a feed subscriber sees every event
// once. Every loop is bounded in count and time; one JSON line is printed last.
import { create } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { checkEtcdHealth, createEtcdClient, KeyLayout } from '@wharf/etcd';
import { EtcdEventStore, FEED_START } from '@wharf/event-store';
import { startEtcd, startMq, type RunningMq } from '@wharf/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { ProjectionSnapshots } from '../../services/api-gateway/src/adapters/projection-snapshots.adapter';

const MiB = 1024 * 1024;
const QUOTA = Number(process.env.SOAK_QUOTA_MIB ?? 32) * MiB;
/** Stop once this many quotas' worth of history was written (without compaction it would be in etcd)... */
const FILLS = Number(process.env.SOAK_FILLS ?? 3.5);
/** ...or after this long, whichever comes first. */
const TIME_CAP_MS = Number(process.env.SOAK_TIME_CAP_S ?? 300) * 1000;
const MAX_ROUND_TRIPS = 2_000_000;
const MAX_SNAPSHOTS = 10_000;
const MAX_EVENTS = 100_000;
const CONCURRENCY = 4;
/** Catalog entries in each snapshot (the api-gateway's catalog of a mid-sized data center). */
const COMPONENTS = Number(process.env.SOAK_COMPONENTS ?? 2500);
const SNAPSHOT_EVERY_MS = 250;
const EVENT_EVERY_MS = 50;
/** Bytes of etcd history one mq round trip leaves (issue 12: 3,000 round trips, 2.4 MB). */
const ROUND_TRIP_HISTORY_BYTES = 800;

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

/** A catalog-shaped state: ids, names, a protobuf spec in base64, versions; about as compressible as the real one. */
function catalogState(events: number) {
  return {
    format: 1,
    events,
    components: Array.from({ length: COMPONENTS }, (_, i) => ({
      id: randomUUID(),
      appId: randomUUID(),
      tenantId: `tenant-${i % 20}`,
      name: `component-${i}`,
      spec: randomBytes(120).toString('base64'),
      version: 1 + (i % 7),
      createdAtMs: Date.now(),
      deleted: false,
      versions: [{ id: randomUUID(), image: `127.0.0.1:5000/t/c${i}:${randomBytes(6).toString('hex')}`, status: 'success' }],
    })),
  };
}

async function main(): Promise<void> {
  const etcd = await startEtcd({ quotaBytes: QUOTA });
  const client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security, maxReceiveMessageBytes: -1 });
  const keys = new KeyLayout('/wharf');
  const mqEnv = {
    WHARF_ETCD_QUOTA_BYTES: String(QUOTA),
    WHARF_ETCD_MAINTENANCE_INTERVAL_MS: '1000',
    // At this rate the default 10 minutes of history would be many quotas: keep 20 s (2 s under pressure).
    WHARF_ETCD_HISTORY_RETENTION_MS: '20000',
    WHARF_LOG_LEVEL: 'info',
  };
  const mqs: RunningMq[] = [];
  const failures: string[] = [];
  const fail = (what: string) => (err: unknown) => void failures.push(`${what}: ${(err as Error).message}`);
  try {
    mqs.push(...(await Promise.all([startMq(etcd, mqEnv), startMq(etcd, mqEnv)])));
    const mq = mqs[0];
    const start = Date.now();
    const deadline = start + TIME_CAP_MS;
    const sizes: number[] = [];
    let nospaceSamples = 0;
    let unreachableSamples = 0;
    const sample = async () => {
      const h = await checkEtcdHealth(client, { quotaBytes: QUOTA, timeoutMs: 5000 });
      if (!h.reachable) unreachableSamples++;
      if (h.dbSizeBytes !== undefined) sizes.push(h.dbSizeBytes);
      if (h.alarms.some((a) => a.alarm === 'NOSPACE')) nospaceSamples++;
    };
    await sample();
    const dbStart = sizes[0];

    let roundTrips = 0;
    let enqueued = 0;
    let snapshots = 0;
    let snapshotBytes = 0;
    let appended = 0;
    const historyBytes = () => snapshotBytes + roundTrips * ROUND_TRIP_HISTORY_BYTES;
    const done = () => historyBytes() >= FILLS * QUOTA || Date.now() >= deadline || failures.length > 0;

    // A feed subscriber over the whole run: every appended event exactly once, compactions or not.
    const store = new EtcdEventStore({ client, keys });
    const delivered = new Map<string, number>();
    const feed = store.subscribe(FEED_START, (e) => {
      const id = (e.message as eventsV1.OperationRequested).eventId;
      delivered.set(id, (delivered.get(id) ?? 0) + 1);
    });
    await feed.caughtUp;

    const sampler = (async () => {
      while (!done()) {
        await sample().catch(fail('sample'));
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    const progress = setInterval(
      () =>
        log(
          `${((Date.now() - start) / 1000).toFixed(0)} s: ${roundTrips} round trips, ${snapshots} snapshots, history written ${mib(historyBytes())} (${(historyBytes() / QUOTA).toFixed(2)} quotas), db ${mib(sizes.at(-1) ?? 0)}`,
        ),
      10_000,
    );

    // mq round trips: producers enqueue, consumers hold Subscribe streams and ack.
    const topic = 'soak';
    const payload = new Uint8Array(64);
    const producers = Array.from({ length: CONCURRENCY }, async (_, p) => {
      while (!done() && enqueued < MAX_ROUND_TRIPS) {
        // Keep a bounded backlog so the queue itself does not grow the live data.
        if (enqueued - roundTrips > 2000) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        const i = enqueued++;
        await mq.client.enqueue({ topic, taskId: `p${p}-${i}`, payload }).catch(fail('enqueue'));
      }
    });
    const controller = new AbortController();
    const consumers = Array.from({ length: CONCURRENCY }, async (_, c) => {
      try {
        const stream = mq.client.subscribe({ topic, consumer: `c${c}`, leaseMs: 60_000, maxInFlight: 8 }, { signal: controller.signal });
        for await (const { delivery: d } of stream) {
          void mq.client
            .ack({ topic, taskId: d!.task!.taskId, leaseId: d!.leaseId })
            .then(() => roundTrips++)
            .catch(fail('ack'));
        }
      } catch (err) {
        if (!controller.signal.aborted) fail('subscribe')(err);
      }
    });
    // Catalog snapshots through the api-gateway's own adapter (chunks, meta, old generation deleted).
    const snapshotter = (async () => {
      const snapshots$ = new ProjectionSnapshots(client, keys, 'api-gateway-catalog');
      while (!done() && snapshots < MAX_SNAPSHOTS) {
        const began = Date.now();
        const head = await store.head();
        const meta = await snapshots$.save(head, catalogState(snapshots)).catch(fail('snapshot'));
        if (!meta) continue;
        const chunks = await client.getAll().prefix(keys.es.projectionChunkPrefix('api-gateway-catalog', meta.generation)).buffers();
        snapshots++;
        snapshotBytes += Object.values(chunks).reduce((n, b) => n + b.length, 0);
        await new Promise((r) => setTimeout(r, Math.max(0, SNAPSHOT_EVERY_MS - (Date.now() - began))));
      }
    })();
    // Domain events (the audit log only grows: they stay live data).
    const appender = (async () => {
      while (!done() && appended < MAX_EVENTS) {
        const id = `soak-${appended}`;
        await store
          .append(
            `component/soak-${appended % 50}`,
            [{ message: create(eventsV1.OperationRequestedSchema, { eventId: id, kind: eventsV1.OperationKind.DEPLOY }) }],
            'any',
          )
          .then(() => appended++)
          .catch(fail('append'));
        await new Promise((r) => setTimeout(r, EVENT_EVERY_MS));
      }
    })();

    await Promise.all([...producers, snapshotter, appender, sampler]);
    // Let in-flight tasks finish (bounded), then stop consuming.
    const drainUntil = Date.now() + 10_000;
    while (roundTrips < enqueued && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await Promise.all(consumers);
    clearInterval(progress);
    // The feed has every appended event (bounded wait), each once.
    const feedUntil = Date.now() + 10_000;
    while (delivered.size < appended && Date.now() < feedUntil) await new Promise((r) => setTimeout(r, 50));
    await feed.close();
    await sample();
    const seconds = (Date.now() - start) / 1000;

    const metrics = await Promise.all(mqs.map(async (m) => (await fetch(`http://${m.http}/metrics`)).text()));
    const count = (action: string) =>
      metrics.reduce((n, t) => n + Number(t.match(new RegExp(`^wharf_etcd_maintenance_actions_total\\{action="${action}"\\} (\\d+)$`, 'm'))?.[1] ?? 0), 0);
    const duplicates = [...delivered.values()].filter((n) => n > 1).length;
    const missing = appended - [...delivered.keys()].filter((k) => k.startsWith('soak-')).length;
    const peak = Math.max(...sizes);
    const result = {
      soak: 'etcd',
      seconds: Math.round(seconds),
      quota_bytes: QUOTA,
      round_trips: roundTrips,
      snapshots,
      snapshot_bytes: snapshotBytes,
      events_appended: appended,
      history_written_bytes: historyBytes(),
      quota_fills: Number((historyBytes() / QUOTA).toFixed(2)),
      db_start_bytes: dbStart,
      db_peak_bytes: peak,
      db_end_bytes: sizes.at(-1),
      nospace_samples: nospaceSamples,
      unreachable_samples: unreachableSamples,
      failed_writes: failures.length,
      feed_missing: missing,
      feed_duplicates: duplicates,
      compactions: count('compact'),
      defragmentations: count('defragment'),
      disarms: count('disarm'),
    };
    log(
      `round trips ${roundTrips}, snapshots ${snapshots} (${mib(snapshotBytes)}), history written ${mib(historyBytes())} = ${result.quota_fills} quotas of ${mib(QUOTA)}`,
    );
    log(
      `database: start ${mib(dbStart)}, peak ${mib(peak)}, end ${mib(result.db_end_bytes ?? 0)}; NOSPACE seen in ${nospaceSamples} of ${sizes.length} samples`,
    );
    log(
      `maintenance: ${result.compactions} compactions, ${result.defragmentations} defragmentations, ${result.disarms} disarms; feed: ${missing} missing, ${duplicates} duplicated`,
    );
    for (const f of failures.slice(0, 10)) log(`failed: ${f}`);
    const ok = failures.length === 0 && peak < QUOTA && nospaceSamples === 0 && missing === 0 && duplicates === 0 && result.quota_fills >= 3;
    process.stdout.write(JSON.stringify({ ...result, ok }) + '\n');
    if (!ok) process.exitCode = 1;
  } finally {
    client.close();
    await Promise.all(mqs.map((m) => m.stop()));
    await etcd.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`soak failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
