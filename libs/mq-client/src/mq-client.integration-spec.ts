import { consume, createMqClient, type MqClient, type MqTask } from './index';
import { freePort, startEtcd, startMq, waitFor, type EtcdInstance, type RunningMq } from '@wharf/testing';

const FAST = { WHARF_MQ_SWEEP_INTERVAL_MS: '100', WHARF_MQ_BACKOFF_BASE_MS: '50', WHARF_MQ_BACKOFF_MAX_MS: '100' };

describe('consume() against a real mq', () => {
  let etcd: EtcdInstance;
  let mq: RunningMq;
  let client: MqClient;

  beforeAll(async () => {
    etcd = await startEtcd();
    mq = await startMq(etcd, FAST);
    client = createMqClient(mq.grpc, etcd.pki.security('builder'));
  });
  afterAll(async () => {
    client?.close();
    await mq?.stop();
    await etcd?.destroy();
  });

  it('handles every task, acks it, and stops when told', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `ok-${i}`);
    for (const taskId of ids) await client.enqueue({ topic: 'c-ok', taskId, payload: new TextEncoder().encode(taskId) });
    const stop = new AbortController();
    const seen: string[] = [];
    const done = consume(
      client,
      'c-ok',
      async (task) => {
        expect(new TextDecoder().decode(task.payload)).toBe(task.taskId);
        seen.push(task.taskId);
        if (seen.length === ids.length) stop.abort();
      },
      { concurrency: 3, signal: stop.signal },
    );
    await done;
    expect(seen.sort()).toEqual(ids.sort());
    await waitFor('acks', async () => ((await mq.admin.stats({ topics: ['c-ok'] })).topics[0].inFlight === 0n ? true : undefined));
    expect((await mq.admin.stats({ topics: ['c-ok'] })).topics[0]).toMatchObject({ depth: 0n, inFlight: 0n, dead: 0n });
  });

  it('nacks a failing task until it reaches the dead letter with the reason', async () => {
    await client.enqueue({ topic: 'c-fail', taskId: 'bad', maxAttempts: 2 });
    const stop = new AbortController();
    const attempts: number[] = [];
    const errors: unknown[] = [];
    const done = consume(
      client,
      'c-fail',
      async (task) => {
        attempts.push(task.attempt);
        throw new Error(`broken input ${task.attempt}`);
      },
      { signal: stop.signal, onError: (err) => errors.push(err) },
    );
    await waitFor('dead letter', async () => ((await mq.admin.listDead({ topic: 'c-fail' })).tasks.length ? true : undefined));
    stop.abort();
    await done;
    expect(attempts).toEqual([1, 2]);
    expect((await mq.admin.listDead({ topic: 'c-fail' })).tasks[0]).toMatchObject({ taskId: 'bad', attempt: 2, lastError: 'broken input 2' });
    expect(errors.length).toBeGreaterThanOrEqual(2);
  });

  it('renews the lease of a task that runs longer than its lease, so nobody else gets it', async () => {
    await client.enqueue({ topic: 'c-slow', taskId: 'slow' });
    const stop = new AbortController();
    const deliveries: MqTask[] = [];
    const done = consume(
      client,
      'c-slow',
      async (task) => {
        deliveries.push(task);
        await new Promise((r) => setTimeout(r, 1200)); // four leases long
        stop.abort();
      },
      { leaseMs: 300, concurrency: 2, signal: stop.signal },
    );
    await done;
    expect(deliveries.map((t) => [t.taskId, t.attempt])).toEqual([['slow', 1]]);
    expect((await mq.admin.stats({ topics: ['c-slow'] })).topics[0]).toMatchObject({ depth: 0n, inFlight: 0n });
  });

  it('reconnects when its mq instance restarts and goes on consuming', async () => {
    const port = await freePort();
    const env = { ...FAST, WHARF_MQ_GRPC_ADDR: `127.0.0.1:${port}` };
    let own = await startMq(etcd, env);
    const local = createMqClient(own.grpc, etcd.pki.security('builder'));
    const stop = new AbortController();
    const seen: string[] = [];
    const done = consume(local, 'c-restart', async (task) => void seen.push(task.taskId), { signal: stop.signal });
    await client.enqueue({ topic: 'c-restart', taskId: 'before' });
    await waitFor('first task acked', async () =>
      seen.includes('before') && (await mq.admin.stats({ topics: ['c-restart'] })).topics[0].inFlight === 0n ? true : undefined,
    );
    await own.stop('SIGKILL');
    await client.enqueue({ topic: 'c-restart', taskId: 'after' });
    own = await startMq(etcd, env);
    await waitFor('task after the restart', async () => (seen.includes('after') ? true : undefined));
    stop.abort();
    await done;
    local.close();
    await own.stop();
    expect(seen).toEqual(['before', 'after']);
  });
});
