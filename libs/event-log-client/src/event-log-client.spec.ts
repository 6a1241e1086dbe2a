import { eventlogV1 } from '@wharf/contracts';
import { InvalidArgumentError, UnavailableError } from '@wharf/grpc';
import { EventLogClient } from './event-log-client';

type Req = { frames: eventlogV1.Frame[] };

/** A fake event-log: stores frames like the server (dedup by producer seq), fails on demand. */
function fakeServer() {
  const stored: eventlogV1.Frame[] = [];
  const last = new Map<string, bigint>();
  let down = 0;
  let lostAcks = 0;
  const calls: number[] = [];
  return {
    stored,
    calls,
    failNext(n: number) {
      down = n;
    },
    loseNextAck(n: number) {
      lostAcks = n;
    },
    client: {
      close: () => undefined,
      async append(req: Req) {
        calls.push(req.frames.length);
        if (down > 0) {
          down--;
          throw new UnavailableError('event-log is down');
        }
        for (const f of req.frames) {
          const key = `${f.eventId}/${f.producer}`;
          if (f.producerSeq <= (last.get(key) ?? 0n)) continue;
          last.set(key, f.producerSeq);
          stored.push(f);
        }
        if (lostAcks > 0) {
          lostAcks--;
          throw new UnavailableError('connection lost before the ack');
        }
        return { accepted: req.frames.length, duplicates: 0, rejected: [] } as unknown as eventlogV1.AppendResponse;
      },
    },
  };
}

const texts = (frames: eventlogV1.Frame[]) => frames.map((f) => (f.body.case === 'line' ? f.body.value.text : f.body.case));

describe('EventLogClient', () => {
  it('sends steps and lines in order, retries while event-log is down, and never stores a retry twice', async () => {
    const server = fakeServer();
    const client = new EventLogClient({
      address: 'unused',
      security: { mode: 'insecure-dev' },
      client: server.client as never,
      retryInitialMs: 1,
      retryMaxMs: 2,
      lingerMs: 0,
    });
    server.failNext(3);
    server.loseNextAck(1);
    const op = client.operation('evt-1', { target: 'component/c1', tenantId: 't1' });
    const build = op.step('build');
    build.line('one');
    build.line('two');
    build.ok();
    op.done();
    expect(await client.flush(5000)).toBe(true);
    expect(texts(server.stored)).toEqual(['stepStarted', 'one', 'two', 'stepFinished', 'done']);
    expect(server.stored.every((f) => f.target === 'component/c1' && f.tenantId === 't1' && f.producer === client.producer)).toBe(true);
    expect(server.calls.length).toBeGreaterThan(4);
    await client.close();
  });

  it('bounds its buffer: drops lines past the limit (counted, then a marker), never steps', async () => {
    const server = fakeServer();
    const client = new EventLogClient({
      address: 'unused',
      security: { mode: 'insecure-dev' },
      client: server.client as never,
      maxBufferedLines: 3,
      retryInitialMs: 50,
      lingerMs: 0,
    });
    server.failNext(1);
    const op = client.operation('evt-2');
    const results = [op.line('a'), op.line('b'), op.line('c'), op.line('d'), op.line('e')];
    const step = op.step('deploy');
    expect(results).toEqual([true, true, true, false, false]);
    expect(client.dropped).toBe(2);
    expect(await client.flush(5000)).toBe(true);
    op.line('f');
    step.ok();
    await client.close();
    expect(texts(server.stored)).toEqual([
      'a',
      'b',
      'c',
      'stepStarted',
      '[event-log-client: 2 lines dropped while event-log was unreachable]',
      'f',
      'stepFinished',
    ]);
  });

  it('drops a batch the server refuses as invalid instead of retrying forever', async () => {
    const server = fakeServer();
    const warnings: string[] = [];
    const client = new EventLogClient({
      address: 'unused',
      security: { mode: 'insecure-dev' },
      client: { close: () => undefined, append: async () => Promise.reject(new InvalidArgumentError('frames: too many')) } as never,
      onWarning: (m) => warnings.push(m),
      lingerMs: 0,
    });
    client.operation('evt-3').line('x');
    expect(await client.flush(2000)).toBe(true);
    expect(client.refused).toBe(1);
    expect(warnings[0]).toContain('refused');
    await client.close();
    expect(server.stored).toEqual([]);
  });

  it('close() flushes what is queued', async () => {
    const server = fakeServer();
    const client = new EventLogClient({ address: 'unused', security: { mode: 'insecure-dev' }, client: server.client as never, lingerMs: 1000 });
    client.operation('evt-4').line('last words');
    await client.close();
    expect(texts(server.stored)).toEqual(['last words']);
  });
});
