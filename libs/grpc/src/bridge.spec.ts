import { create } from '@bufbuild/protobuf';
import { mqV1 } from '@wharf/contracts';
import { createCa, issueTlsMaterial } from '@wharf/pki';
import { ConflictError, createClient, GrpcServer, InvalidArgumentError, InternalError, methodPath, UnavailableError, type ServiceImpl } from './index';

const quiet = { warn: () => undefined };

// The bridge against a real grpc-js server on loopback (mutual TLS), with the generated mq service.
describe('gRPC bridge', () => {
  let server: GrpcServer;
  let client: ReturnType<typeof createClient<typeof mqV1.MqService>>;
  let lastStreamAborted: Promise<void>;

  const impl: ServiceImpl<typeof mqV1.MqService> = {
    async enqueue(req, ctx) {
      if (req.topic === '') throw new InvalidArgumentError('topic: must not be empty');
      if (req.topic === 'conflict') throw new ConflictError('version 3 expected, stream is at 4', { reason: 'version_mismatch' });
      if (req.topic === 'busy') throw new UnavailableError('etcd is down', { retryAfterMs: 1500 });
      if (req.topic === 'boom') throw new Error('secret internal detail');
      if (req.topic === 'slow') {
        // Ends on cancellation (the deadline) so no timer outlives the test.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 2000);
          ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()));
        });
      }
      return { created: req.payload.length === 3 && req.taskId === 't1' };
    },
    async dequeue(req) {
      return { deliveries: [{ task: { topic: req.topic, taskId: 'a', attempt: 1, enqueuedAtMs: 1n << 40n }, leaseId: 'L' }] };
    },
    async *subscribe(req, ctx) {
      lastStreamAborted = new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      for (let i = 0; ; i++) {
        yield { delivery: { task: { topic: req.topic, taskId: `t${i}` } } };
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    ack: async () => ({}),
    nack: async () => ({ dead: false }),
    extendLease: async () => ({}),
    stats: async (req) => ({ topics: req.topics.map((topic) => ({ topic, depth: 7n })) }),
    listDead: async () => ({ tasks: [] }),
  };

  beforeAll(async () => {
    const ca = await createCa();
    const [mq, tester] = await Promise.all([issueTlsMaterial(ca, { identity: 'mq' }), issueTlsMaterial(ca, { identity: 'tester' })]);
    // Not the data center's table: this suite is about the bridge, so its client may call everything.
    const access = Object.fromEntries(mqV1.MqService.methods.map((m) => [methodPath(mqV1.MqService, m), ['tester']]));
    server = new GrpcServer({ security: { mode: 'mtls', tls: mq }, logger: quiet, access }).add(mqV1.MqService, impl);
    const port = await server.listen('127.0.0.1:0');
    client = createClient(mqV1.MqService, `127.0.0.1:${port}`, { security: { mode: 'mtls', tls: tester } });
  });
  afterAll(async () => {
    client.close();
    await server.shutdown(100);
  });

  it('round-trips unary calls with bytes, bigint and $typeName intact', async () => {
    const res = await client.enqueue({ topic: 'build', taskId: 't1', payload: new Uint8Array([1, 2, 3]) });
    expect(res.$typeName).toBe('wharf.mq.v1.EnqueueResponse');
    expect(res.created).toBe(true);
    const deq = await client.dequeue(create(mqV1.DequeueRequestSchema, { topic: 'x' }));
    expect(deq.deliveries[0].task?.enqueuedAtMs).toBe(1n << 40n);
    const stats = await client.stats({ topics: ['a', 'b'] });
    expect(stats.topics.map((t) => [t.topic, t.depth])).toEqual([
      ['a', 7n],
      ['b', 7n],
    ]);
  });

  it('maps typed errors to status codes and back', async () => {
    await expect(client.enqueue({ topic: '' })).rejects.toThrow(new InvalidArgumentError('topic: must not be empty'));
    await expect(client.enqueue({ topic: 'conflict' })).rejects.toBeInstanceOf(ConflictError);
    await expect(client.enqueue({ topic: 'conflict' })).rejects.toMatchObject({ reason: 'version_mismatch', code: 'conflict' });
    await expect(client.enqueue({ topic: '' })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(client.enqueue({ topic: 'busy' })).rejects.toMatchObject({ name: 'UnavailableError', retryAfterMs: 1500 });
    const internal = client.enqueue({ topic: 'boom' });
    await expect(internal).rejects.toBeInstanceOf(InternalError);
    await expect(internal).rejects.toThrow('internal error');
  });

  it('enforces deadlines', async () => {
    await expect(client.enqueue({ topic: 'slow' }, { timeoutMs: 50 })).rejects.toMatchObject({ name: 'DeadlineExceededError' });
  });

  it('streams from the server and cancels on abort, which the handler sees', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const msg of client.subscribe({ topic: 'q' }, { signal: controller.signal })) {
          seen.push(msg.delivery!.task!.taskId);
          if (seen.length === 3) controller.abort();
        }
      })(),
    ).rejects.toMatchObject({ name: 'CancelledError' });
    expect(seen).toEqual(['t0', 't1', 't2']);
    await lastStreamAborted;
  });

  it('refuses to serve a service with a missing method', () => {
    const partial = { ...impl } as Partial<typeof impl>;
    delete partial.listDead;
    expect(() => new GrpcServer({ security: { mode: 'insecure-dev' }, logger: quiet }).add(mqV1.MqService, partial as typeof impl)).toThrow(
      'wharf.mq.v1.MqService.ListDead has no implementation',
    );
  });
});
