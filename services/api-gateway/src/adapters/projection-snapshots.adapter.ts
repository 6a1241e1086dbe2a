import { KeyLayout, type Etcd3 } from '@wharf/etcd';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Under etcd's default 1.5 MiB request limit, with room for the key and framing. */
export const SNAPSHOT_CHUNK_BYTES = 1_000_000;

export interface SnapshotMeta {
  position: string;
  generation: string;
  chunks: number;
  bytes: number;
  timeMs: number;
}

/**
 * A projection's whole in-memory state persisted in etcd, so a restart loads it and follows
 * the feed from its position instead of replaying every event. Layout (libs/etcd keys.ts):
 * the state as gzipped JSON in chunks under a fresh generation, then the meta key pointing
 * at it (a reader never sees a half-written generation), then the previous generation is
 * deleted. Several instances may save: each meta names a complete generation.
 */
export class ProjectionSnapshots {
  constructor(
    private readonly client: Etcd3,
    private readonly keys: KeyLayout,
    readonly name: string,
  ) {}

  async save(position: string, state: unknown, now = Date.now()): Promise<SnapshotMeta> {
    const json = Buffer.from(JSON.stringify(state));
    const packed = await gzipAsync(json, { level: 1 }); // off the event loop; level 1: speed over size
    const generation = `${KeyLayout.pad(BigInt(position))}-${randomBytes(4).toString('hex')}`;
    const chunks = Math.max(1, Math.ceil(packed.length / SNAPSHOT_CHUNK_BYTES));
    for (let n = 0; n < chunks; n++) {
      await this.client
        .put(this.keys.es.projectionChunk(this.name, generation, n))
        .value(packed.subarray(n * SNAPSHOT_CHUNK_BYTES, (n + 1) * SNAPSHOT_CHUNK_BYTES));
    }
    const previous = await this.meta();
    const meta: SnapshotMeta = { position, generation, chunks, bytes: json.length, timeMs: now };
    await this.client.put(this.keys.es.projectionMeta(this.name)).value(JSON.stringify(meta));
    if (previous && previous.generation !== generation) await this.client.delete().prefix(this.keys.es.projectionChunkPrefix(this.name, previous.generation));
    return meta;
  }

  async meta(): Promise<SnapshotMeta | undefined> {
    const text = await this.client.get(this.keys.es.projectionMeta(this.name)).string();
    return text ? (JSON.parse(text) as SnapshotMeta) : undefined;
  }

  /** The latest saved state, or undefined (none, or its generation vanished under a concurrent save). */
  async load<S>(): Promise<{ position: string; state: S; meta: SnapshotMeta } | undefined> {
    const metaKey = this.keys.es.projectionMeta(this.name);
    const metaRes = await this.client.kv.range({ key: Buffer.from(metaKey) });
    const kv = metaRes.kvs?.[0];
    if (!kv) return undefined;
    const meta = JSON.parse(kv.value.toString()) as SnapshotMeta;
    // Each chunk on its own (responses stay small) and all at the meta's revision: one
    // consistent view even while a newer save deletes this generation.
    const parts: Buffer[] = [];
    for (let n = 0; n < meta.chunks; n++) {
      const res = await this.client.kv.range({
        key: Buffer.from(this.keys.es.projectionChunk(this.name, meta.generation, n)),
        revision: metaRes.header.revision,
      });
      const part = res.kvs?.[0];
      if (!part) return undefined;
      parts.push(part.value);
    }
    const json = await gunzipAsync(Buffer.concat(parts));
    return { position: meta.position, state: JSON.parse(json.toString()) as S, meta };
  }
}
