export const TRUNCATION_MARKER = '…[truncated';

/** Cuts a line to maxBytes of UTF-8 (never inside a character) and says how much was dropped. */
export function truncateLine(text: string, maxBytes: number): { text: string; truncated: boolean } {
  if (text.length <= maxBytes / 3) return { text, truncated: false };
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return { text, truncated: false };
  const buf = Buffer.from(text, 'utf8');
  let end = maxBytes;
  // Step back over UTF-8 continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return { text: `${buf.subarray(0, end).toString('utf8')}${TRUNCATION_MARKER} ${bytes - end} bytes]`, truncated: true };
}
