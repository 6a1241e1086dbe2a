import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for secret env values at rest: iv (12) | tag (16) | ciphertext. api-gateway
 * seals what a user sets; app-manager opens it only to hand it to a container. The context
 * (`<component id>/<variable name>`) is authenticated data: a value copied onto another
 * component or variable does not open.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error(`secret key must be 32 bytes, got ${key.length}`);
  }

  /** Accepts 64 hex characters or base64 of 32 bytes. */
  static parseKey(text: string): Buffer {
    const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
    if (key.length !== 32) throw new Error('must be 32 bytes: 64 hex characters or base64');
    return key;
  }

  seal(plain: string, context: string): Uint8Array {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), data]);
  }

  /** Throws when the value was sealed with another key or for another context, or was altered. */
  open(sealed: Uint8Array, context: string): string {
    const buf = Buffer.from(sealed);
    if (buf.length < 28) throw new Error(`sealed value of ${buf.length} bytes is too short (iv 12 + tag 16)`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, buf.subarray(0, 12));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(buf.subarray(12, 28));
    return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]).toString('utf8');
  }
}

/** The context a component's secret env value is sealed for. */
export const secretContext = (componentId: string, name: string) => `${componentId}/${name}`;
