import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Ids } from '@wharf/system';

/** A new webhook secret: 32 random bytes as hex (what the user pastes into the git host). */
export function newWebhookSecret(ids: Ids): string {
  return ids.hex(32);
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * GitHub (and Gitea, Forgejo): X-Hub-Signature-256 is "sha256=" + hex HMAC-SHA256 of the raw
 * request body with the secret. Compared in constant time; the body must be the exact bytes
 * received (never re-serialised JSON).
 */
export function verifyHubSignature(secret: string, rawBody: Buffer, header: string | undefined): boolean {
  if (!secret || !header) return false;
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return equal(expected, Buffer.from(m[1], 'hex'));
}

/** GitLab: X-Gitlab-Token carries the secret itself; compared in constant time. */
export function verifyGitlabToken(secret: string, header: string | undefined): boolean {
  if (!secret || !header) return false;
  return equal(Buffer.from(secret, 'utf8'), Buffer.from(header, 'utf8'));
}
