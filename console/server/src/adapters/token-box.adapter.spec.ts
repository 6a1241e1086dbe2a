import { randomBytes } from 'node:crypto';
import { TokenBox } from './token-box.adapter';

describe('TokenBox', () => {
  const box = new TokenBox(randomBytes(32));
  const token = 'wharf_ABCDEFGHIJKLMNOP_' + 'x'.repeat(43);

  it('opens what it sealed, and the ciphertext does not contain the token', () => {
    const sealed = box.seal(token, 'console-dc/dc-1/credential/alice');
    expect(Buffer.from(sealed).toString('latin1')).not.toContain('ABCDEFGHIJKLMNOP');
    expect(box.open(sealed, 'console-dc/dc-1/credential/alice')).toBe(token);
  });

  it('refuses to open a token under another data center or user, or with another key', () => {
    const sealed = box.seal(token, 'console-dc/dc-1/credential/alice');
    expect(() => box.open(sealed, 'console-dc/dc-1/credential/bob')).toThrow();
    expect(() => new TokenBox(randomBytes(32)).open(sealed, 'console-dc/dc-1/credential/alice')).toThrow();
  });

  it('parses a key as hex or base64 of 32 bytes only', () => {
    expect(TokenBox.parseKey('ab'.repeat(32))).toHaveLength(32);
    expect(TokenBox.parseKey(randomBytes(32).toString('base64'))).toHaveLength(32);
    expect(() => TokenBox.parseKey('abc')).toThrow(/32 bytes/);
  });
});
