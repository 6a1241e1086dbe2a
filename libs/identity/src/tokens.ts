import { randomIds, type Ids } from '@wharf/system';
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * API tokens look like `wharf_<token id>_<secret>`. The id finds the record; only a sha256
 * of the 256-bit random secret is stored. A slow KDF (bcrypt, scrypt) protects guessable
 * passwords; a uniformly random 256-bit secret cannot be guessed, so one fast hash is
 * enough and keeps authentication off the request's critical path.
 */
const TOKEN = /^wharf_([A-Za-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface IssuedToken {
  tokenId: string;
  /** Shown to the user once. */
  token: string;
  secretSha256: Uint8Array;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const alnum = (bytes: Buffer) => [...bytes].map((b) => ALNUM[b % ALNUM.length]).join('');

export function sha256(text: string): Uint8Array {
  return createHash('sha256').update(text).digest();
}

/** A new token; its randomness comes from `ids` (injected, so a test can predict it). */
export function issueToken(ids: Ids = randomIds): IssuedToken {
  const tokenId = alnum(Buffer.from(ids.hex(16), 'hex'));
  const secret = Buffer.from(ids.hex(32), 'hex').toString('base64url');
  return { tokenId, token: `wharf_${tokenId}_${secret}`, secretSha256: sha256(secret) };
}

/** A token supplied by configuration (e.g. the admin's) must have the same shape. */
export function isWellFormedToken(token: string): boolean {
  return TOKEN.test(token);
}

export function parseToken(token: string): { tokenId: string; secret: string } | undefined {
  const m = TOKEN.exec(token);
  return m ? { tokenId: m[1], secret: m[2] } : undefined;
}

export function secretMatches(secret: string, stored: Uint8Array): boolean {
  const given = sha256(secret);
  return stored.length === given.length && timingSafeEqual(given, stored);
}

/** Rebuilds the record parts of a known token (for a token given by configuration). */
export function tokenFromString(token: string): IssuedToken | undefined {
  const parsed = parseToken(token);
  return parsed && { tokenId: parsed.tokenId, token, secretSha256: sha256(parsed.secret) };
}
