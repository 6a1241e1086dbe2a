import { eventlogV1 } from '@wharf/contracts';
import { createClient, NotFoundError } from '@wharf/grpc';
import type { TransportSecurity } from '@wharf/pki';
import type { AppendTotals, TaggedFrame } from '../../domain/frames';
import type { OperationInfo } from '../../domain/operation-info';
import type { EntryRecord } from '../../domain/records';
import { FORWARDED } from '../../grpc/forwarded';
import { entriesFromProto, infoFromProto } from '../../grpc/proto-mappers';
import type { Peer, PeerFactory } from './peer';

const forwarded = { [FORWARDED]: '1' };

/** Peers over gRPC (mutual TLS as event-log): EventLogService calls marked forwarded, frames passed on as they came. */
export const grpcPeers =
  (security: TransportSecurity): PeerFactory =>
  (address) =>
    new GrpcPeer(address, security);

class GrpcPeer implements Peer {
  private readonly client;

  constructor(address: string, security: TransportSecurity) {
    this.client = createClient(eventlogV1.EventLogService, address, { security });
  }

  async append(frames: TaggedFrame[]): Promise<AppendTotals> {
    const res = await this.client.append({ frames: frames.map((f) => f.wire) }, { timeoutMs: 10_000, metadata: forwarded });
    return { accepted: res.accepted, duplicates: res.duplicates };
  }

  async info(eventId: string, options: { timeoutMs?: number } = {}): Promise<OperationInfo | undefined> {
    const res = await this.client.read({ eventId, afterSeq: 0n, limit: 0 }, { timeoutMs: options.timeoutMs ?? 5000, metadata: forwarded }).catch((err) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    return res?.operation ? infoFromProto(res.operation) : undefined;
  }

  async read(eventId: string, afterSeq: number, limit: number): Promise<{ info?: OperationInfo; entries: EntryRecord[]; more: boolean }> {
    const res = await this.client.read({ eventId, afterSeq: BigInt(afterSeq), limit }, { timeoutMs: 10_000, metadata: forwarded });
    return { info: res.operation ? infoFromProto(res.operation) : undefined, entries: entriesFromProto(eventId, res.entries), more: res.more };
  }

  async *follow(eventId: string, afterSeq: number, signal: AbortSignal): AsyncIterable<EntryRecord[]> {
    for await (const res of this.client.follow({ eventId, afterSeq: BigInt(afterSeq) }, { signal, metadata: forwarded })) {
      const entries = entriesFromProto(eventId, res.entries);
      if (entries.length) yield entries;
    }
  }

  close(): void {
    this.client.close();
  }
}
