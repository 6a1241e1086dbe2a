import { eventlogV1 } from '@wharf/contracts';
import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import { EtcdEventStore } from '@wharf/event-store';
import { createClient, type ServiceClient } from '@wharf/grpc';
import { startEtcd, startEventLog, waitFor, type EtcdInstance, type RunningEventLog } from '@wharf/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { seedOperation, seedUser } from '../test/seed';
import { partitionOf } from './domain/partition-of';

const PARTITIONS = 4;

async function owned(el: RunningEventLog): Promise<number[]> {
  const res = await fetch(`${el.url}/health`);
  return ((await res.json()) as { partitions: number[] }).partitions;
}

// Two real instances sharing one data directory and one etcd: partitions split between them
// through leases, any instance serves any operation (forwarding), and when one is killed -9
// the other takes its partitions over with everything that was acknowledged.
describe('event-log cluster', () => {
  let etcd: EtcdInstance;
  let etcdClient: Etcd3;
  let dataDir: string;
  let a: RunningEventLog;
  let b: RunningEventLog;
  let grpcA: ServiceClient<typeof eventlogV1.EventLogService>;
  let token: string;
  let socket: Socket | undefined;
  const ids = Array.from({ length: 16 }, (_, i) => `evt-c${i}`);

  beforeAll(async () => {
    etcd = await startEtcd();
    etcdClient = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
    const store = new EtcdEventStore({ client: etcdClient });
    token = await seedUser(store, 'carol', ['tc']);
    for (const id of ids) await seedOperation(store, 'tc', 'c9', id);
    dataDir = mkdtempSync(join(tmpdir(), 'wharf-eventlog-cluster-'));
    const env = { WHARF_EVENTLOG_LEASE_TTL_S: '2', WHARF_EVENTLOG_PARTITIONS: String(PARTITIONS) };
    a = await startEventLog(etcd, dataDir, { ...env, WHARF_EVENTLOG_INSTANCE: 'el-a' });
    b = await startEventLog(etcd, dataDir, { ...env, WHARF_EVENTLOG_INSTANCE: 'el-b' });
    grpcA = createClient(eventlogV1.EventLogService, a.grpc, { security: etcd.pki.security('api-gateway') });
  });

  afterAll(async () => {
    socket?.close();
    grpcA?.close();
    await a?.stop();
    await b?.stop();
    etcdClient?.close();
    await etcd?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('splits partitions, forwards, and moves a dead instance’s partitions with nothing acknowledged lost', async () => {
    const split = await waitFor('both instances own partitions', async () => {
      const [pa, pb] = [await owned(a), await owned(b)];
      return pa.length && pb.length && pa.length + pb.length === PARTITIONS ? { pa, pb } : undefined;
    });
    expect([...split.pa, ...split.pb].sort()).toEqual([0, 1, 2, 3]);
    const keys = new KeyLayout();
    expect(Object.keys(await etcdClient.getAll().prefix(keys.eventlog.partitionPrefix()).strings())).toHaveLength(PARTITIONS);

    // Follow, through A, an operation whose partition B owns.
    const onB = ids.find((id) => split.pb.includes(partitionOf(id, PARTITIONS)))!;
    const seen: number[] = [];
    let last = 0;
    socket = io(a.url, { auth: { token }, transports: ['websocket'] });
    // While the partition moves the subscription is refused as unavailable: try again.
    const sub = (): void =>
      void socket!.emit('subscribe', { event_id: onB, after_seq: last }, (ack: { ok: boolean; error?: { code: string } }) => {
        if (!ack.ok && ack.error?.code === 'unavailable') setTimeout(sub, 200);
      });
    socket.on('connect', sub);
    socket.on('subscription_ended', () => setTimeout(sub, 100));
    socket.on('entries', (m: { entries: { seq: number }[] }) => {
      for (const e of m.entries) seen.push(e.seq);
      last = seen[seen.length - 1];
    });

    const acked = new Map<string, string[]>(ids.map((id) => [id, []]));
    let writing = true;
    let round = 0;
    const writer = (async () => {
      while (writing) {
        const r = round++;
        const frames = ids.map((eventId) => ({ eventId, body: { case: 'line' as const, value: { text: `r${r}` } } }));
        try {
          await grpcA.append({ frames }, { timeoutMs: 3000 });
          for (const id of ids) acked.get(id)!.push(`r${r}`);
        } catch {
          await new Promise((res) => setTimeout(res, 50));
        }
      }
    })();
    await waitFor('rounds through both instances', async () => (acked.get(onB)!.length > 50 ? true : undefined));
    await b.stop('SIGKILL');
    const beforeKill = acked.get(onB)!.length;
    await waitFor('A owns every partition', async () => ((await owned(a)).length === PARTITIONS ? true : undefined), 20_000);
    await waitFor('rounds after the takeover', async () => (acked.get(onB)!.length > beforeKill + 50 ? true : undefined), 20_000);
    writing = false;
    await writer;

    for (const id of ids) {
      const page = await grpcA.read({ eventId: id, limit: 5000 });
      const texts = page.entries.map((e) => (e.body.case === 'line' ? e.body.value.text : ''));
      expect(page.entries.map((e) => Number(e.seq))).toEqual(texts.map((_, i) => i + 1));
      const stored = new Set(texts);
      expect(acked.get(id)!.filter((t) => !stored.has(t))).toEqual([]);
      expect(stored.size).toBe(texts.length);
    }
    const total = Number((await grpcA.read({ eventId: onB, limit: 1 })).operation!.lastSeq);
    await waitFor('the follower caught up after the move', async () => (last === total ? true : undefined), 20_000);
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });
});
