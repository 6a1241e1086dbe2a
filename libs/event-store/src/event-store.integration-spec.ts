import { create } from '@bufbuild/protobuf';
import { eventsV1, mqV1 } from '@wharf/contracts';
import { createEtcdClient, KeyLayout, type Etcd3 } from '@wharf/etcd';
import {
  ClaimConflictError,
  ConcurrencyError,
  EtcdEventStore,
  EventStoreInputError,
  FEED_START,
  Projection,
  type ProjectionDefinition,
  type RecordedEvent,
} from './index';
import { startEtcd, waitFor, type EtcdInstance } from '@wharf/testing';

const requested = (eventId: string, target = 'component/c1') =>
  create(eventsV1.OperationRequestedSchema, { eventId, kind: eventsV1.OperationKind.DEPLOY, target, tenantId: 't1' });

/** A read model: per stream, the event ids in order, and a count. */
const byStream: ProjectionDefinition<Map<string, string[]>> = {
  name: 'by-stream',
  initial: () => new Map(),
  apply(state, e) {
    const ids = state.get(e.stream) ?? [];
    ids.push((e.message as eventsV1.OperationRequested).eventId);
    state.set(e.stream, ids);
    return state;
  },
};

describe('EtcdEventStore against a real etcd', () => {
  let etcd: EtcdInstance;
  let client: Etcd3;
  let store: EtcdEventStore;
  let root = 0;

  beforeAll(async () => {
    etcd = await startEtcd();
    client = createEtcdClient({ endpoints: [etcd.endpoint], security: etcd.security });
  });
  beforeEach(() => {
    // Each test gets its own key root, so feeds do not see each other's events.
    store = new EtcdEventStore({ client, keys: new KeyLayout(`/test${++root}`) });
  });
  afterAll(async () => {
    client.close();
    await etcd.destroy();
  });

  it('appends, reads back and tracks the version', async () => {
    expect(await store.version('component/a')).toBe(0);
    const r1 = await store.append('component/a', [{ message: requested('e1'), eventId: 'e1', actor: 'user:u1' }], 0);
    const r2 = await store.append('component/a', [{ message: requested('e2') }, { message: requested('e3') }], 1);
    expect(r1.version).toBe(1);
    expect(r2.version).toBe(3);
    expect(BigInt(r2.position)).toBeGreaterThan(BigInt(r1.position));
    const events = await store.read('component/a');
    expect(events.map((e) => [e.version, e.type, (e.message as eventsV1.OperationRequested).eventId])).toEqual([
      [1, 'wharf.events.v1.OperationRequested', 'e1'],
      [2, 'wharf.events.v1.OperationRequested', 'e2'],
      [3, 'wharf.events.v1.OperationRequested', 'e3'],
    ]);
    expect(events[0]).toMatchObject({ stream: 'component/a', eventId: 'e1', actor: 'user:u1', position: r1.position });
    expect((await store.read('component/a', 2, 1)).map((e) => e.version)).toEqual([2]);
    expect(await store.version('component/a')).toBe(3);
  });

  it('rejects a stale expectedVersion with a typed conflict and writes nothing', async () => {
    await store.append('app/x', [{ message: requested('a') }], 0);
    const stale = store.append('app/x', [{ message: requested('b') }, { message: requested('c') }], 0);
    await expect(stale).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(stale).rejects.toMatchObject({ stream: 'app/x', expectedVersion: 0, actualVersion: 1 });
    await expect(store.append('app/x', [{ message: requested('d') }], 5)).rejects.toThrow('stream app/x is at version 1, expected 5');
    expect((await store.read('app/x')).map((e) => (e.message as eventsV1.OperationRequested).eventId)).toEqual(['a']);
    expect(await store.version('app/x')).toBe(1);
  });

  it('gives each version of a stream to exactly one of many concurrent writers, losing nothing', async () => {
    const writers = 12;
    const perWriter = 8;
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          for (;;) {
            const at = await store.version('component/hot');
            try {
              await store.append('component/hot', [{ message: requested(`w${w}-${i}`) }], at);
              break;
            } catch (err) {
              if (!(err instanceof ConcurrencyError)) throw err;
              conflicts++;
            }
          }
        }
      }),
    );
    const events = await store.read('component/hot');
    const ids = events.map((e) => (e.message as eventsV1.OperationRequested).eventId);
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: writers * perWriter }, (_, i) => i + 1));
    expect(new Set(ids).size).toBe(writers * perWriter);
    expect(conflicts).toBeGreaterThan(0); // the writers really raced
    // 'any' is atomic too: concurrent appends all land, none overwrites another.
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.append('component/any', [{ message: requested(`any${i}`) }], 'any')));
    expect(await store.version('component/any')).toBe(10);
    expect(new Set((await store.read('component/any')).map((e) => (e.message as eventsV1.OperationRequested).eventId)).size).toBe(10);
  });

  it('takes a claim with the events in one transaction: of racing writers exactly one holds it, the losers write nothing', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        store.append(`component/c${i}`, [{ message: requested(`e${i}`) }], 0, {
          claims: [{ name: 'route/http a.example.com/', holder: `c${i}`, expectedRevision: 0 }],
        }),
      ),
    );
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ClaimConflictError);
    for (let i = 0; i < 8; i++) expect(await store.version(`component/c${i}`)).toBe(i === won[0] ? 1 : 0);
    const held = (await store.readClaims(['route/http a.example.com/', 'route/http free.example.com/'])).get('route/http a.example.com/')!;
    expect(held).toMatchObject({ holder: `c${won[0]}`, revision: (results[won[0]] as PromiseFulfilledResult<{ position: string }>).value.position });
    expect((await store.readClaims(['route/http free.example.com/'])).size).toBe(0);
    // Taken over at the revision read; a writer holding an older read loses.
    await store.append('component/next', [{ message: requested('n') }], 0, { claims: [{ name: held.name, holder: 'next', expectedRevision: held.revision }] });
    await expect(
      store.append('component/late', [{ message: requested('l') }], 0, { claims: [{ name: held.name, holder: 'late', expectedRevision: held.revision }] }),
    ).rejects.toBeInstanceOf(ClaimConflictError);
    expect((await store.readClaims([held.name])).get(held.name)?.holder).toBe('next');
    expect(await store.version('component/late')).toBe(0);
    // A stale stream version is still the stream's conflict, not the claim's.
    await expect(store.append('component/next', [{ message: requested('n2') }], 0, { claims: [] })).rejects.toBeInstanceOf(ConcurrencyError);
  });

  it('names bad claims and writes nothing', async () => {
    const one = [{ message: requested('x') }];
    await expect(store.append('component/k', one, 0, { claims: [{ name: '', holder: 'k', expectedRevision: 0 }] })).rejects.toThrow(/claim name must be/);
    await expect(store.append('component/k', one, 0, { claims: [{ name: 'a\nb', holder: 'k', expectedRevision: 0 }] })).rejects.toThrow(/control characters/);
    await expect(
      store.append('component/k', one, 0, {
        claims: [
          { name: 'a', holder: 'k', expectedRevision: 0 },
          { name: 'a', holder: 'k', expectedRevision: 0 },
        ],
      }),
    ).rejects.toThrow(/names a claim twice/);
    await expect(store.append('component/k', one, 0, { claims: [{ name: 'a', holder: 'k', expectedRevision: 'x1' as never }] })).rejects.toThrow(
      /expectedRevision/,
    );
    const many = Array.from({ length: 101 }, (_, i) => ({ name: `n${i}`, holder: 'k', expectedRevision: 0 as const }));
    await expect(store.append('component/k', one, 0, { claims: many })).rejects.toThrow(/at most 100 claims/);
    expect(await store.version('component/k')).toBe(0);
    expect((await store.readClaims(['a'])).size).toBe(0);
  });

  it('names bad input and writes nothing', async () => {
    await expect(store.append('no-kind', [{ message: requested('x') }], 0)).rejects.toThrow(/must look like kind\/id/);
    await expect(store.append('component/../x', [{ message: requested('x') }], 0)).rejects.toBeInstanceOf(EventStoreInputError);
    const foreign = create(mqV1.TaskSchema, { topic: 't' });
    await expect(store.append('component/f', [{ message: foreign }], 0)).rejects.toThrow(/wharf.mq.v1.Task is not in the event store's registry/);
    const huge = create(eventsV1.OperationRequestedSchema, { eventId: 'big', argsJson: 'x'.repeat(1_600_000) });
    await expect(store.append('component/f', [{ message: huge }], 0)).rejects.toThrow(/exceeds the limit of 1500000 bytes/);
    await expect(store.append('component/f', [], 0)).rejects.toThrow(/at least one event/);
    expect(await store.version('component/f')).toBe(0);
  });

  it('feeds subscribers in order with no gap and no duplicate across an etcd crash', async () => {
    const seen: RecordedEvent[] = [];
    for (let i = 0; i < 20; i++) await store.append(`component/s${i % 3}`, [{ message: requested(`pre${i}`) }], 'any');
    const sub = store.subscribe(FEED_START, (e) => void seen.push(e));
    await sub.caughtUp;
    expect(seen).toHaveLength(20);
    for (let i = 0; i < 10; i++) await store.append(`component/s${i % 3}`, [{ message: requested(`live${i}`) }, { message: requested(`live${i}b`) }], 'any');
    await waitFor('live events', async () => (seen.length === 40 ? true : undefined));

    await etcd.kill();
    await etcd.start();
    for (let i = 0; i < 10; i++) await store.append(`component/s${i % 3}`, [{ message: requested(`after${i}`) }], 'any');
    await waitFor('events after the restart', async () => (seen.length >= 50 ? true : undefined), 20000);
    await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show up if there were one
    await sub.close();

    const ids = seen.map((e) => (e.message as eventsV1.OperationRequested).eventId);
    expect(seen).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
    const order = seen.map((e) => [BigInt(e.position), e.version]);
    for (let i = 1; i < order.length; i++) {
      const [p0, v0] = order[i - 1];
      const [p1, v1] = order[i];
      expect(p1 > p0 || (p1 === p0 && v1 > v0)).toBe(true);
    }
    // Resuming from the position a subscriber reached delivers only what came later.
    const later: string[] = [];
    const resumed = store.subscribe(sub.position, (e) => void later.push((e.message as eventsV1.OperationRequested).eventId));
    await resumed.caughtUp;
    await store.append('component/s0', [{ message: requested('last') }], 'any');
    await waitFor('the resumed event', async () => (later.length > 0 ? true : undefined));
    await resumed.close();
    expect(later).toEqual(['last']);
  });

  it('rebuilds a projection from zero to the same state as the live one', async () => {
    const live = new Projection(store, byStream);
    await live.start();
    let last = '0';
    for (let i = 0; i < 30; i++) last = (await store.append(`component/p${i % 4}`, [{ message: requested(`p${i}`) }], 'any')).position;
    await live.waitFor(last);
    const rebuilt = await Projection.rebuild(store, byStream);
    expect(rebuilt.state).toEqual(live.state);
    expect(rebuilt.position).toBe(live.position);
    expect([...live.state.values()].flat()).toHaveLength(30);
    await live.stop();
  });

  it('stores and loads snapshots as protobuf', async () => {
    expect(await store.loadSnapshot('component/snap')).toBeUndefined();
    await store.saveSnapshot('component/snap', 7, requested('state-at-7'));
    const snap = await store.loadSnapshot<eventsV1.OperationRequested>('component/snap');
    expect(snap).toMatchObject({ stream: 'component/snap', version: 7 });
    expect(snap!.state.eventId).toBe('state-at-7');
  });
});
