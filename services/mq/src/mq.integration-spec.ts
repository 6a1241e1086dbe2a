import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { mqV1 } from '@wharf/contracts';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@wharf/grpc';
import { spawnProcess, startEtcd, startMq, waitFor, type EtcdInstance, type RunningMq } from '@wharf/testing';
import { join } from 'node:path';

const payload = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

describe('mq service (real processes, real etcd)', () => {
  let etcd: EtcdInstance;
  let a: RunningMq;
  let b: RunningMq;
  let n = 0;
  const topic = () => `t${++n}`;

  beforeAll(async () => {
    etcd = await startEtcd();
    const env = { WHARF_MQ_SWEEP_INTERVAL_MS: '100', WHARF_MQ_BACKOFF_BASE_MS: '50', WHARF_MQ_BACKOFF_MAX_MS: '200' };
    [a, b] = await Promise.all([startMq(etcd, env), startMq(etcd, env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await etcd?.destroy();
  });

  it('round-trips a task: enqueue on one instance, dequeue and ack on the other', async () => {
    const t = topic();
    expect((await a.client.enqueue({ topic: t, taskId: 'task-1', eventId: 'evt-1', payload: payload('hello') })).created).toBe(true);
    const { deliveries } = await b.client.dequeue({ topic: t, consumer: 'c1', leaseMs: 5000, waitMs: 2000 });
    expect(deliveries).toHaveLength(1);
    const d = deliveries[0];
    expect(d.task).toMatchObject({ topic: t, taskId: 'task-1', eventId: 'evt-1', attempt: 1 });
    expect(text(d.task!.payload)).toBe('hello');
    await b.client.ack({ topic: t, taskId: 'task-1', leaseId: d.leaseId });
    // Acked means gone: never delivered again, and acking twice says why it fails.
    expect((await a.client.dequeue({ topic: t, waitMs: 300 })).deliveries).toHaveLength(0);
    await expect(a.client.ack({ topic: t, taskId: 'task-1', leaseId: d.leaseId })).rejects.toBeInstanceOf(NotFoundError);
    const [stats] = (await a.admin.stats({ topics: [t] })).topics;
    expect(stats).toMatchObject({ topic: t, depth: 0n, inFlight: 0n, dead: 0n });
  });

  it('long-polls: a waiting consumer gets a task enqueued after it asked, through either instance', async () => {
    const t = topic();
    for (const [via, id] of [
      [b, 'late-watch'],
      [a, 'late-handoff'],
    ] as const) {
      const pending = a.client.dequeue({ topic: t, waitMs: 5000, leaseMs: 5000 });
      await new Promise((r) => setTimeout(r, 200));
      await via.client.enqueue({ topic: t, taskId: id, payload: payload('x') });
      const { deliveries } = await pending;
      expect(deliveries.map((d) => [d.task!.taskId, d.task!.attempt])).toEqual([[id, 1]]);
      await a.client.ack({ topic: t, taskId: id, leaseId: deliveries[0].leaseId });
    }
    // The second was leased inside the Enqueue transaction (the waiter was on the same instance).
    expect(await (await fetch(`http://${a.http}/metrics`)).text()).toMatch(new RegExp(`^wharf_mq_handoffs_total\\{topic="${t}"\\} 1$`, 'm'));
  });

  it('is idempotent on task_id while the task is queued or in flight', async () => {
    const t = topic();
    expect((await a.client.enqueue({ topic: t, taskId: 'same', payload: payload('first') })).created).toBe(true);
    expect((await b.client.enqueue({ topic: t, taskId: 'same', payload: payload('second') })).created).toBe(false);
    const { deliveries } = await a.client.dequeue({ topic: t, waitMs: 1000, maxTasks: 5 });
    expect(deliveries).toHaveLength(1);
    expect(text(deliveries[0].task!.payload)).toBe('first');
    expect((await b.client.enqueue({ topic: t, taskId: 'same', payload: payload('third') })).created).toBe(false);
  });

  it('redelivers after a lease expires, and the old lease can no longer ack', async () => {
    const t = topic();
    await a.client.enqueue({ topic: t, taskId: 'slow', payload: payload('x') });
    const first = (await a.client.dequeue({ topic: t, leaseMs: 300, waitMs: 1000 })).deliveries[0];
    const second = (await b.client.dequeue({ topic: t, leaseMs: 5000, waitMs: 5000 })).deliveries[0];
    expect(second.task).toMatchObject({ taskId: 'slow', attempt: 2 });
    expect(second.task!.lastError).toMatch(/lease expired/);
    await expect(a.client.ack({ topic: t, taskId: 'slow', leaseId: first.leaseId })).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(a.client.extendLease({ topic: t, taskId: 'slow', leaseId: first.leaseId, leaseMs: 1000 })).rejects.toBeInstanceOf(FailedPreconditionError);
    const extended = await b.client.extendLease({ topic: t, taskId: 'slow', leaseId: second.leaseId, leaseMs: 60_000 });
    expect(extended.leaseExpiresAtMs).toBeGreaterThan(second.leaseExpiresAtMs);
    await b.client.ack({ topic: t, taskId: 'slow', leaseId: second.leaseId });
  });

  it('retries a nacked task with back-off and dead-letters it after max attempts', async () => {
    const t = topic();
    await a.client.enqueue({ topic: t, taskId: 'flaky', payload: payload('x'), maxAttempts: 3 });
    const attempts: number[] = [];
    let last: mqV1.NackResponse | undefined;
    for (let i = 0; i < 3; i++) {
      const d = (await a.client.dequeue({ topic: t, waitMs: 5000 })).deliveries[0];
      attempts.push(d.task!.attempt);
      last = await b.client.nack({ topic: t, taskId: 'flaky', leaseId: d.leaseId, reason: `boom ${i}` });
      if (i < 2) expect(last).toMatchObject({ dead: false, attempt: i + 1 });
    }
    expect(attempts).toEqual([1, 2, 3]);
    expect(last!.dead).toBe(true);
    expect((await a.client.dequeue({ topic: t, waitMs: 400 })).deliveries).toHaveLength(0);
    const dead = await b.admin.listDead({ topic: t });
    expect(dead.tasks.map((x) => [x.taskId, x.attempt, x.lastError])).toEqual([['flaky', 3, 'boom 2']]);
    expect((await a.admin.stats({ topics: [t] })).topics[0]).toMatchObject({ dead: 1n, depth: 0n, inFlight: 0n });
  });

  it('never lets two consumers hold one task: many consumers on two instances ack every task exactly once', async () => {
    const t = topic();
    const total = 60;
    await Promise.all(Array.from({ length: total }, (_, i) => (i % 2 ? a : b).client.enqueue({ topic: t, taskId: `job-${i}`, payload: payload(String(i)) })));
    const holders = new Map<string, string>();
    const acked: string[] = [];
    let overlaps = 0;
    await Promise.all(
      Array.from({ length: 6 }, async (_, c) => {
        const mq = c % 2 ? a : b;
        for (;;) {
          const { deliveries } = await mq.client.dequeue({ topic: t, consumer: `c${c}`, leaseMs: 10_000, waitMs: 300, maxTasks: 3 });
          if (deliveries.length === 0) return;
          for (const d of deliveries) {
            const id = d.task!.taskId;
            if (holders.has(id)) overlaps++;
            holders.set(id, `c${c}`);
            await new Promise((r) => setTimeout(r, 2));
            holders.delete(id);
            await mq.client.ack({ topic: t, taskId: id, leaseId: d.leaseId });
            acked.push(id);
          }
        }
      }),
    );
    expect(overlaps).toBe(0);
    expect(acked.sort()).toEqual(Array.from({ length: total }, (_, i) => `job-${i}`).sort());
  });

  it('streams deliveries with Subscribe, keeping at most max_in_flight un-acked', async () => {
    const t = topic();
    for (let i = 0; i < 5; i++) await a.client.enqueue({ topic: t, taskId: `s${i}`, payload: payload('x') });
    const controller = new AbortController();
    const got: string[] = [];
    const stream = b.client.subscribe({ topic: t, consumer: 'streamer', leaseMs: 10_000, maxInFlight: 2 }, { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    const first = [(await iterator.next()).value!, (await iterator.next()).value!];
    got.push(...first.map((r) => r.delivery!.task!.taskId));
    // Two in flight: nothing more comes until one is acked.
    const third = iterator.next();
    const raced = await Promise.race([third.then(() => 'delivered'), new Promise((r) => setTimeout(() => r('held back'), 400))]);
    expect(raced).toBe('held back');
    await b.client.ack({ topic: t, taskId: first[0].delivery!.task!.taskId, leaseId: first[0].delivery!.leaseId });
    got.push((await third).value!.delivery!.task!.taskId);
    controller.abort();
    expect(new Set(got).size).toBe(3);
  });

  it('frees a Subscribe slot when the task is acked through another instance', async () => {
    const t = topic();
    for (let i = 0; i < 3; i++) await a.client.enqueue({ topic: t, taskId: `x${i}`, payload: payload('x') });
    const controller = new AbortController();
    const iterator = a.client
      .subscribe({ topic: t, consumer: 'cross', leaseMs: 60_000, maxInFlight: 1 }, { signal: controller.signal })
      [Symbol.asyncIterator]();
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = (await iterator.next()).value!.delivery!;
      seen.push(d.task!.taskId);
      await b.client.ack({ topic: t, taskId: d.task!.taskId, leaseId: d.leaseId });
    }
    controller.abort();
    await iterator.next().catch(() => undefined);
    expect(seen.sort()).toEqual(['x0', 'x1', 'x2']);
  });

  it('moves payloads up to the limit, several at once, and keeps each Dequeue answer under 4 MiB', async () => {
    const t = topic();
    const big = (i: number) => new Uint8Array(1024 * 1024).fill(i);
    const created = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => a.client.enqueue({ topic: t, taskId: `big-${i}`, payload: big(i) })));
    expect(created.map((r) => r.created)).toEqual([true, true, true, true, true, true]);
    const got: mqV1.Delivery[] = [];
    while (got.length < 6) {
      const { deliveries } = await b.client.dequeue({ topic: t, maxTasks: 10, waitMs: 5000, leaseMs: 10_000 });
      expect(deliveries.length).toBeGreaterThan(0);
      expect(deliveries.reduce((n, d) => n + d.task!.payload.length, 0)).toBeLessThanOrEqual(4 * 1024 * 1024);
      got.push(...deliveries);
    }
    expect(got.map((d) => [d.task!.taskId, d.task!.attempt]).sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => [`big-${i}`, 1]));
    for (const d of got) {
      const i = Number(d.task!.taskId.slice(4));
      expect(Buffer.from(d.task!.payload).equals(big(i))).toBe(true);
      await b.client.ack({ topic: t, taskId: d.task!.taskId, leaseId: d.leaseId });
    }
    expect((await a.admin.stats({ topics: [t] })).topics[0]).toMatchObject({ depth: 0n, inFlight: 0n });
  });

  it('answers bad input with INVALID_ARGUMENT naming the field and the limit, writing nothing', async () => {
    const cases: [MessageInitShape<typeof mqV1.EnqueueRequestSchema>, RegExp][] = [
      [{ topic: '', taskId: 'x' }, /topic: must not be empty/],
      [{ topic: 'Bad Topic', taskId: 'x' }, /topic: "Bad Topic" must match/],
      [{ topic: 'ok', taskId: '' }, /task_id: must not be empty/],
      [{ topic: 'ok', taskId: '../etc' }, /task_id: "..\/etc" must match/],
      [{ topic: 'ok', taskId: 'big', payload: new Uint8Array(1024 * 1024 + 1) }, /payload: 1048577 bytes is over the limit of 1048576 bytes/],
      [{ topic: 'ok', taskId: 'huge', payload: new Uint8Array(5 * 1024 * 1024) }, /payload: 5242880 bytes is over the limit of 1048576 bytes/],
      [{ topic: 'ok', taskId: 'x', maxAttempts: 1000 }, /max_attempts: 1000 is out of range 0..100/],
    ];
    for (const [req, message] of cases) {
      const call = a.client.enqueue(create(mqV1.EnqueueRequestSchema, req));
      await expect(call).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(call).rejects.toThrow(message);
    }
    await expect(a.client.dequeue({ topic: 'ok', leaseMs: 5 })).rejects.toThrow(/lease_ms: 5 is out of range 100..3600000/);
    await expect(a.client.ack({ topic: 'ok', taskId: 'x', leaseId: '' })).rejects.toThrow(/lease_id: must not be empty/);
    expect((await a.admin.stats({ topics: ['ok'] })).topics[0]).toMatchObject({ depth: 0n, inFlight: 0n, dead: 0n });
  });

  it('serves /health and Prometheus /metrics', async () => {
    const health = await fetch(`http://${a.http}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`http://${a.http}/metrics`)).text();
    expect(metrics).toMatch(/^wharf_mq_enqueued_total\{topic="t1"\} 1$/m);
    expect(metrics).toMatch(/wharf_mq_depth/);
    expect((await fetch(`http://${a.http}/nope`)).status).toBe(404);
  });

  it('serves /livez, and /readyz that turns not ready naming etcd while etcd is down, and ready again after', async () => {
    const ownEtcd = await startEtcd();
    const mq = await startMq(ownEtcd);
    try {
      expect((await fetch(`http://${mq.http}/livez`)).status).toBe(200);
      const ready = await fetch(`http://${mq.http}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        checks: { etcd: { ok: true, detail: expect.stringMatching(/^database [\d.]+ MiB of a 2048.0 MiB quota$/) } },
      });
      await ownEtcd.kill();
      const down = await waitFor('mq not ready', async () => {
        const res = await fetch(`http://${mq.http}/readyz`);
        return res.status === 503 ? ((await res.json()) as { checks: { etcd: { ok: boolean; detail: string } } }) : undefined;
      });
      expect(down.checks.etcd).toMatchObject({ ok: false, detail: expect.stringMatching(/^etcd (unreachable|did not answer)/) });
      expect((await fetch(`http://${mq.http}/livez`)).status).toBe(200);
      await ownEtcd.start();
      await waitFor('mq ready again', async () => ((await fetch(`http://${mq.http}/readyz`)).status === 200 ? true : undefined));
    } finally {
      await mq.stop();
      await ownEtcd.destroy();
    }
  });

  it('shuts down gracefully on SIGTERM: long-polls answer, streams end cleanly, the process exits', async () => {
    const t = topic();
    const leaving = await startMq(etcd);
    const poll = leaving.client.dequeue({ topic: t, waitMs: 30_000 });
    const stream = (async () => {
      const got: string[] = [];
      for await (const { delivery } of leaving.client.subscribe({ topic: t, maxInFlight: 1 })) got.push(delivery!.task!.taskId);
      return got;
    })();
    await new Promise((r) => setTimeout(r, 300));
    await leaving.process.stop('SIGTERM');
    await expect(poll).resolves.toMatchObject({ deliveries: [] });
    await expect(stream).resolves.toEqual([]);
    leaving.client.close();
  });

  describe('crash safety', () => {
    it('a consumer killed with -9 mid-task: the task comes back after its lease, nothing lost', async () => {
      const t = topic();
      await a.client.enqueue({ topic: t, taskId: 'crashy', payload: payload('x') });
      const consumer = spawnProcess(process.execPath, ['-r', '@swc-node/register', join(__dirname, '..', 'test', 'hanging-consumer.ts'), a.grpc, t, '500'], {
        env: { ...process.env, ...etcd.pki.env('builder') },
      });
      await consumer.waitForOutput(/got crashy attempt=1/);
      await consumer.stop('SIGKILL');
      const d = (await b.client.dequeue({ topic: t, waitMs: 5000, leaseMs: 5000 })).deliveries[0];
      expect(d.task).toMatchObject({ taskId: 'crashy', attempt: 2 });
      await b.client.ack({ topic: t, taskId: 'crashy', leaseId: d.leaseId });
    });

    it('a consumer killed with -9 holding a task handed to it at enqueue: redelivered too', async () => {
      const t = topic();
      const consumer = spawnProcess(process.execPath, ['-r', '@swc-node/register', join(__dirname, '..', 'test', 'hanging-consumer.ts'), a.grpc, t, '500'], {
        env: { ...process.env, ...etcd.pki.env('builder') },
      });
      await consumer.waitForOutput(/waiting/);
      await new Promise((r) => setTimeout(r, 200));
      await a.client.enqueue({ topic: t, taskId: 'handed', payload: payload('x') });
      await consumer.waitForOutput(/got handed attempt=1/);
      await consumer.stop('SIGKILL');
      const d = (await b.client.dequeue({ topic: t, waitMs: 5000, leaseMs: 5000 })).deliveries[0];
      expect(d.task).toMatchObject({ taskId: 'handed', attempt: 2 });
      await b.client.ack({ topic: t, taskId: 'handed', leaseId: d.leaseId });
    });

    it('an mq instance killed with -9 mid-task: redelivered through another instance; acked tasks stay acked', async () => {
      const t = topic();
      const doomed = await startMq(etcd, { WHARF_MQ_SWEEP_INTERVAL_MS: '100' });
      await doomed.client.enqueue({ topic: t, taskId: 'done', payload: payload('x') });
      await doomed.client.enqueue({ topic: t, taskId: 'inflight', payload: payload('y') });
      const got = (await doomed.client.dequeue({ topic: t, waitMs: 2000, maxTasks: 2, leaseMs: 500 })).deliveries;
      expect(got.map((d) => d.task!.taskId).sort()).toEqual(['done', 'inflight']);
      const done = got.find((d) => d.task!.taskId === 'done')!;
      await doomed.client.ack({ topic: t, taskId: 'done', leaseId: done.leaseId });
      await doomed.stop('SIGKILL');
      const again = await waitFor('redelivery', async () => {
        const res = await a.client.dequeue({ topic: t, waitMs: 1000, maxTasks: 5, leaseMs: 5000 });
        return res.deliveries.length ? res.deliveries : undefined;
      });
      expect(again.map((d) => [d.task!.taskId, d.task!.attempt])).toEqual([['inflight', 2]]);
      await a.client.ack({ topic: t, taskId: 'inflight', leaseId: again[0].leaseId });
      expect((await b.client.dequeue({ topic: t, waitMs: 700 })).deliveries).toHaveLength(0);
    });
  });
});
