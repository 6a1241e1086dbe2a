import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { TokenSealer } from '../domain/ports';

/** AES-256-GCM for data-center tokens at rest: iv (12) | tag (16) | ciphertext, the context as associated data. */
export class TokenBox implements TokenSealer {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error(`key must be 32 bytes, got ${key.length}`);
  }

  /** 64 hex characters or base64 of 32 bytes. */
  static parseKey(text: string): Buffer {
    const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
    if (key.length !== 32) throw new Error('must be 32 bytes: 64 hex characters or base64');
    return key;
  }

  seal(token: string, context: string): Uint8Array {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const data = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), data]);
  }

  open(sealed: Uint8Array, context: string): string {
    const buf = Buffer.from(sealed);
    const decipher = createDecipheriv('aes-256-gcm', this.key, buf.subarray(0, 12));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(buf.subarray(12, 28));
    return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
  }
}
