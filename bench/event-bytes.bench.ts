// npm run bench -- event-bytes
// What one domain event costs in etcd's database once its history is compacted and the file
// defragmented: the event store only grows (it is the audit log), so this is what decides how
// many events a quota holds. Typical events, appended the way the api-gateway and event-log
// do (one append per event, each also rewriting its stream's head key): a component created
// (its own new stream), an operation requested and that operation finished (on the
// component's stream). Bounded in count; the JSON line is printed last.
import { create, type Message } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import { createEtcdClient, isCompactedError, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { startEtcd } from '@wharf/testing';
import { randomUUID } from 'node:crypto';

const STREAMS = Number(process.env.EVENT_BYTES_STREAMS ?? 5000);
const CONCURRENCY = 8;
const log = (msg: string) => process.stderr.write(`${msg}\n`);

const componentCreated = (componentId: string) =>
  create(eventsV1.ComponentCreatedSchema, {
    componentId,
    appId: randomUUID(),
    tenantId: randomUUID(),
    spec: {
      name: 'api',
      source: { case: 'git', value: { url: 'https://git.example.com/acme/shop-api.git', branch: 'main' } },
      ports: [{ port: 8080, protocol: 'http', public: true }],
      env: [
        { name: 'NODE_ENV', value: 'production' },
        { name: 'LOG_LEVEL', value: 'info' },
      ],
      cpuMillis: 500,
      memoryMib: 512,
      replicas: 2,
      probe: { kind: 'http', path: '/healthz', port: 8080, initialDelayS: 5, periodS: 10, failureThreshold: 3 },
      routes: [{ host: 'api.shop.acme.dc1.example.com', pathPrefix: '/', port: 8080 }],
    },
  });
const requested = (target: string, eventId: string) =>
  create(eventsV1.OperationRequestedSchema, { eventId, kind: eventsV1.OperationKind.DEPLOY, target, tenantId: randomUUID(), argsJson: '{"replicas":2}' });
const finished = (eventId: string) => create(eventsV1.OperationFinishedSchema, { eventId, status: eventsV1.OperationStatus.SUCCESS, message: 'deployed' });

/** Compacts all history and defragments: what is left is the live data. */
async function liveBytes(client: Etcd3): Promise<number> {
  const { header } = await client.maintenance.status();
  await client.kv.compact({ revision: header.revision, physical: true }).catch((err) => {
    if (!isCompactedError(err)) throw err; // nothing written since the last phase's compaction
  });
  await client.maintenance.defragment();
  return Number((await client.maintenance.status()).dbSize);
}

async function phase(store: EtcdEventStore, client: Etcd3, name: string, streams: string[], event: (stream: string, i: number) => Message): Promise<number> {
  const before = await liveBytes(client);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < streams.length) {
        const i = next++;
        await store.append(streams[i], [{ message: event(streams[i], i), eventId: randomUUID(), actor: `user:${randomUUID()}` }], 'any');
      }
    }),
  );
  const after = await liveBytes(client);
  const perEvent = (after - before) / streams.length;
  log(`${name}: ${streams.length} events, database +${((after - before) / 1024 / 1024).toFixed(2)} MiB, ${perEvent.toFixed(0)} bytes/event`);
  return perEvent;
}

async function main(): Promise<void> {
  const etcd = await startEtcd();
  const client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  try {
    const store = new EtcdEventStore({ client, keys: new KeyLayout('/wharf') });
    const ids = Array.from({ length: STREAMS }, () => randomUUID());
    const streams = ids.map((id) => `component/${id}`);
    const eventIds = ids.map(() => randomUUID());
    // Warm-up: etcd's first pages and the connection, not counted.
    await phase(store, client, 'warm-up', ['component/warm-a', 'component/warm-b'], (s) => componentCreated(s));
    const created = await phase(store, client, 'ComponentCreated (new stream)', streams, (_s, i) => componentCreated(ids[i]));
    const req = await phase(store, client, 'OperationRequested', streams, (s, i) => requested(s, eventIds[i]));
    const fin = await phase(store, client, 'OperationFinished', streams, (_s, i) => finished(eventIds[i]));
    // A component's life: created once, then operations (requested + finished) on its stream.
    const operation = req + fin;
    const quotas = [2, 4, 8].map((gib) => ({ gib, operations: Math.floor((gib * 1024 ** 3 * 0.8) / operation) }));
    for (const q of quotas)
      log(`a ${q.gib} GiB quota, filled to 80% with events alone: ~${(q.operations / 1e6).toFixed(1)} million operations (requested + finished)`);
    const round = (x: number) => Math.round(x);
    process.stdout.write(
      JSON.stringify({
        bench: 'event-bytes',
        streams: STREAMS,
        component_created_bytes: round(created),
        operation_requested_bytes: round(req),
        operation_finished_bytes: round(fin),
        operations_per_gib_at_80pct: Math.floor((1024 ** 3 * 0.8) / operation),
      }) + '\n',
    );
  } finally {
    client.close();
    await etcd.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
