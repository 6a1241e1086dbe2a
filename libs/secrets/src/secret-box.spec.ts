import { SecretBox, secretContext } from './secret-box';

describe('SecretBox', () => {
  const box = new SecretBox(SecretBox.parseKey('ab'.repeat(32)));

  it('opens what it sealed, for the same context only', () => {
    const sealed = box.seal('hunter2', secretContext('acme.shop.api', 'DB_PASSWORD'));
    expect(Buffer.from(sealed).toString('utf8')).not.toContain('hunter2');
    expect(box.open(sealed, 'acme.shop.api/DB_PASSWORD')).toBe('hunter2');
    expect(() => box.open(sealed, 'acme.shop.web/DB_PASSWORD')).toThrow();
  });

  it('refuses another key, an altered value and a truncated one', () => {
    const sealed = box.seal('x', 'c');
    expect(() => new SecretBox(Buffer.alloc(32, 1)).open(sealed, 'c')).toThrow();
    const altered = Buffer.from(sealed);
    altered[altered.length - 1] ^= 1;
    expect(() => box.open(altered, 'c')).toThrow();
    expect(() => box.open(new Uint8Array(5), 'c')).toThrow(/too short/);
  });

  it('parses hex and base64 keys of 32 bytes only', () => {
    expect(SecretBox.parseKey(Buffer.alloc(32, 7).toString('base64'))).toHaveLength(32);
    expect(() => SecretBox.parseKey('abcd')).toThrow(/32 bytes/);
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});
