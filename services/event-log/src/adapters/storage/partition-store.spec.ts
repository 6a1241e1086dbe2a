import { eventsV1 } from '@wharf/contracts';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IngestFrame } from '../../domain/frames';
import { PartitionLog } from './partition-log';
import { PartitionStore } from './partition-store';
import { encodeRecord, scanRecords } from './record-codec';
import type { EntryRecord } from '../../domain/records';

const line = (eventId: string, text: string, producerSeq = 0, producer = 'p1'): IngestFrame => ({
  eventId,
  producer: producerSeq ? producer : '',
  producerSeq,
  target: '',
  tenantId: '',
  body: { kind: 'line', timeMs: 1, level: 2, step: '', text, truncated: false },
});
const step = (eventId: string, name: string, ok?: boolean, message = ''): IngestFrame => ({
  eventId,
  producer: '',
  producerSeq: 0,
  target: 'component/c1',
  tenantId: 't1',
  body: ok === undefined ? { kind: 'step_started', step: name } : { kind: 'step_finished', step: name, ok, message },
});
const done = (eventId: string): IngestFrame => ({ eventId, producer: '', producerSeq: 0, target: '', tenantId: '', body: { kind: 'done' } });

describe('record codec', () => {
  it('stops at a torn or corrupt record', () => {
    const a = encodeRecord({ a: 1 });
    const b = encodeRecord({ b: 2 });
    expect(scanRecords(Buffer.concat([a, b])).records.map((r) => r.value)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(scanRecords(Buffer.concat([a, b.subarray(0, b.length - 1)]))).toMatchObject({ validBytes: a.length, records: [{ value: { a: 1 } }] });
    const bad = Buffer.from(b);
    bad[bad.length - 2] ^= 0xff;
    expect(scanRecords(Buffer.concat([a, bad])).records).toHaveLength(1);
  });
});

describe('PartitionStore', () => {
  let dir: string;
  const opts = { segmentBytes: 4096, hotEntries: 10 };
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'wharf-eventlog-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('assigns seq per event id, makes entries visible only once durable, and rebuilds the same index', async () => {
    const { store } = await PartitionStore.open(0, dir, opts);
    const seen: number[] = [];
    store.listen('e1', (entries) => seen.push(...entries.map((e) => e.s)));
    const out = store.append([line('e1', 'a'), line('e2', 'x'), line('e1', 'b')]);
    expect(store.durableSeq('e1')).toBe(0);
    await out.durable;
    expect(store.durableSeq('e1')).toBe(2);
    expect(seen).toEqual([1, 2]);
    for (let i = 0; i < 100; i++) await store.append([line('e1', `line ${i}`)]).durable;
    expect(store.log.segmentCount).toBeGreaterThan(1);
    const all = await store.read('e1', 0, 1000);
    expect(all.map((e) => e.s)).toEqual(Array.from({ length: 102 }, (_, i) => i + 1));
    await store.close();

    const { store: again, report } = await PartitionStore.open(0, dir, opts);
    expect(report.truncatedBytes).toBe(0);
    expect(again.durableSeq('e1')).toBe(102);
    const page = await again.read('e1', 50, 10);
    expect(page.map((e) => [e.s, (e as Extract<EntryRecord, { k: 'l' }>).x])).toEqual(Array.from({ length: 10 }, (_, i) => [51 + i, `line ${48 + i}`]));
    // Appends continue the sequence after a restart.
    await again.append([line('e1', 'after')]).durable;
    expect((await again.read('e1', 102, 10)).map((e) => e.s)).toEqual([103]);
    await again.close();
  });

  it('cuts a torn tail on open and appends after the last good record', async () => {
    const { store } = await PartitionStore.open(0, dir, opts);
    await store.append([line('e1', 'one'), line('e1', 'two')]).durable;
    await store.close();
    const seg = join(dir, readdirSync(dir)[0]);
    const size = statSync(seg).size;
    appendFileSync(seg, encodeRecord({ k: 'l', e: 'e1', s: 3, t: 1, lv: 2, st: '', x: 'three', tm: 1 }).subarray(0, 10)); // a crash mid-write
    const { store: again, report } = await PartitionStore.open(0, dir, opts);
    expect(report.truncatedBytes).toBe(10);
    expect(statSync(seg).size).toBe(size);
    await again.append([line('e1', 'three')]).durable;
    expect((await again.read('e1', 0, 10)).map((e) => (e as Extract<EntryRecord, { k: 'l' }>).x)).toEqual(['one', 'two', 'three']);
    await again.close();
  });

  it('drops retried frames by (producer, producer_seq), also after a restart', async () => {
    const { store } = await PartitionStore.open(0, dir, opts);
    expect(store.append([line('e1', 'a', 1), line('e1', 'b', 2)]).accepted).toBe(2);
    const retry = store.append([line('e1', 'a', 1), line('e1', 'b', 2), line('e1', 'c', 3)]);
    expect([retry.accepted, retry.duplicates]).toEqual([1, 2]);
    await retry.durable;
    await store.close();
    const { store: again } = await PartitionStore.open(0, dir, opts);
    expect(again.append([line('e1', 'c', 3), line('e1', 'c', 3, 'other')]).duplicates).toBe(1);
    expect(again.get('e1')!.lastSeq).toBe(4);
    await again.close();
  });

  it('writes the final status once as an entry, keeps it across restarts, and ignores later reports', async () => {
    const { store } = await PartitionStore.open(0, dir, opts);
    const out = store.append([step('op', 'build'), step('op', 'build', false, 'exit 2'), step('op', 'push', false, 'later')]);
    expect(out.decided.map((o) => o.eventId)).toEqual(['op']);
    await out.durable;
    const entries = await store.read('op', 0, 10);
    expect(entries.map((e) => e.k)).toEqual(['ss', 'sf', 'f', 'sf']);
    expect(entries[2]).toMatchObject({ k: 'f', ss: eventsV1.OperationStatus.FAILURE, m: 'exit 2', fs: 'build' });
    expect(store.append([done('op')]).decided).toEqual([]);
    await store.close();
    const { store: again } = await PartitionStore.open(0, dir, opts);
    expect(again.get('op')!.final).toMatchObject({ status: eventsV1.OperationStatus.FAILURE, failedStep: 'build' });
    expect(again.get('op')!.target).toBe('component/c1');
    expect(again.byTarget.get('component/c1')?.has('op')).toBe(true);
    await again.close();
  });

  it('writes a decision whose final entry was torn off by a crash when it reopens', async () => {
    const { store } = await PartitionStore.open(0, dir, opts);
    await store.append([step('op', 's'), step('op', 's', true), done('op')]).durable;
    await store.close();
    // Remove the final record (the last one) as if the crash cut it.
    const seg = join(dir, readdirSync(dir)[0]);
    const { records } = scanRecords<{ k: string }>(readFileSync(seg));
    expect(records[records.length - 1].value.k).toBe('f');
    truncateSync(seg, records[records.length - 1].offset);
    const { store: again, repaired } = await PartitionStore.open(0, dir, opts);
    expect(repaired).toBe(1);
    expect((await again.read('op', 0, 10)).map((e) => e.k)).toEqual(['ss', 'sf', 'f']);
    await again.close();
  });

  it('times out silent operations once', async () => {
    let now = 1000;
    const { store } = await PartitionStore.open(0, dir, { ...opts, now: () => now });
    await store.append([step('op', 'deploy')]).durable;
    expect(store.sweepTimeouts(5000).decided).toEqual([]);
    now += 5000;
    const t = store.sweepTimeouts(5000);
    expect(t.decided.map((o) => o.eventId)).toEqual(['op']);
    await t.durable;
    now += 50_000;
    expect(store.sweepTimeouts(5000).decided).toEqual([]);
    expect((await store.read('op', 0, 10)).map((e) => e.k)).toEqual(['ss', 'f']);
    await store.close();
  });

  it('serves catch-up from memory when it can, from disk otherwise', async () => {
    const { store } = await PartitionStore.open(0, dir, opts);
    for (let i = 0; i < 30; i++) await store.append([line('e', `l${i}`)]).durable;
    expect(store.readHot('e', 28, 30)!.map((e) => e.s)).toEqual([29, 30]);
    expect(store.readHot('e', 0, 30)).toBeUndefined(); // only the last ~10-20 are hot
    expect((await store.read('e', 0, 100)).length).toBe(30);
    expect((await store.read('e', 5, 3)).map((e) => e.s)).toEqual([6, 7, 8]);
    await store.close();
  });

  it('retention removes the oldest segments and the index forgets their entries', async () => {
    const now = 0;
    const { store } = await PartitionStore.open(0, dir, { ...opts, now: () => now });
    for (let i = 0; i < 200; i++) await store.append([line('old', `line ${i}`)]).durable;
    const before = store.log.totalBytes;
    const removed = await store.enforceRetention(before / 2, Number.MAX_SAFE_INTEGER);
    expect(removed).toBeGreaterThan(0);
    expect(store.log.totalBytes).toBeLessThanOrEqual(before / 2 + opts.segmentBytes);
    const op = store.get('old')!;
    expect(op.firstSeq).toBeGreaterThan(1);
    const rest = await store.read('old', 0, 1000);
    expect(rest[0].s).toBe(op.firstSeq);
    expect(rest[rest.length - 1].s).toBe(200);
    await store.close();
    const { store: again } = await PartitionStore.open(0, dir, opts);
    expect(again.get('old')!.firstSeq).toBe(op.firstSeq);
    await again.close();
  });

  it('group commit: many appends in one tick share one flush and all become durable', async () => {
    const { log } = await PartitionLog.open(dir, { segmentBytes: 1 << 20 }, () => undefined);
    const results = Array.from({ length: 500 }, (_, i) => log.append([{ i }]));
    await Promise.all(results.map((r) => r.durable));
    const values: unknown[] = [];
    await log.close();
    await PartitionLog.open(dir, { segmentBytes: 1 << 20 }, (v) => values.push(v)).then(({ log: l }) => l.close());
    expect(values).toEqual(Array.from({ length: 500 }, (_, i) => ({ i })));
  });
});
