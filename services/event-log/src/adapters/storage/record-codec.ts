import { crc32 } from 'node:zlib';

/**
 * On-disk framing of one record: [u32 length][u32 crc32 of the payload][payload], little
 * endian; the payload is UTF-8 JSON. The CRC is what tells a torn or garbled tail (a crash
 * mid-write) from a real record when a segment is scanned on start.
 */
export const HEADER_BYTES = 8;
/** A record larger than this is corruption, not data (lines are truncated long before). */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024;

export function encodeRecord(value: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(value), 'utf8');
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, HEADER_BYTES);
  return out;
}

export interface ScannedRecord<T> {
  offset: number;
  length: number;
  value: T;
}

export interface ScanResult<T> {
  records: ScannedRecord<T>[];
  /** Bytes of valid records from the start; anything after is a torn or corrupt tail. */
  validBytes: number;
}

/** Decodes one framed record at `offset` of `buf` (the whole record must be in buf). */
export function decodeRecordAt<T>(buf: Buffer, offset = 0): T {
  const length = buf.readUInt32LE(offset);
  const payload = buf.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
  if (payload.length !== length || crc32(payload) !== buf.readUInt32LE(offset + 4)) throw new Error(`corrupt record at ${offset}`);
  return JSON.parse(payload.toString('utf8')) as T;
}

/** Every intact record from the start of buf, stopping at the first torn or corrupt one. */
export function scanRecords<T>(buf: Buffer, baseOffset = 0): ScanResult<T> {
  const records: ScannedRecord<T>[] = [];
  let at = 0;
  while (at + HEADER_BYTES <= buf.length) {
    const length = buf.readUInt32LE(at);
    if (length > MAX_RECORD_BYTES || at + HEADER_BYTES + length > buf.length) break;
    const payload = buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length);
    if (crc32(payload) !== buf.readUInt32LE(at + 4)) break;
    let value: T;
    try {
      value = JSON.parse(payload.toString('utf8')) as T;
    } catch {
      break;
    }
    records.push({ offset: baseOffset + at, length: HEADER_BYTES + length, value });
    at += HEADER_BYTES + length;
  }
  return { records, validBytes: at };
}
