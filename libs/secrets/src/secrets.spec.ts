import { InvalidArgumentError } from '@wharf/errors';
import { hasSealedSecrets, openSourceCredentials, sealSourceCredentials, SecretBox } from './index';

const key = Buffer.alloc(32, 7);

describe('SecretBox', () => {
  it('opens what it sealed under the same context only', () => {
    const box = new SecretBox(key);
    const sealed = box.seal('s3cret', 'c1/build:git_token');
    expect(Buffer.from(sealed).toString('utf8')).not.toContain('s3cret');
    expect(box.open(sealed, 'c1/build:git_token')).toBe('s3cret');
    expect(() => box.open(sealed, 'c2/build:git_token')).toThrow();
    expect(() => new SecretBox(Buffer.alloc(32, 8)).open(sealed, 'c1/build:git_token')).toThrow();
  });

  it('parses a key from hex or base64 and refuses other lengths', () => {
    expect(SecretBox.parseKey('ab'.repeat(32))).toHaveLength(32);
    expect(SecretBox.parseKey(key.toString('base64'))).toEqual(key);
    expect(() => SecretBox.parseKey('abcd')).toThrow(/32 bytes/);
  });
});

describe('source credentials', () => {
  const box = new SecretBox(key);

  it('round-trips every field through seal and open for the same component', () => {
    const plain = {
      gitUsername: 'bot',
      gitToken: 'tok',
      sshPrivateKey: 'KEY',
      sshKnownHosts: 'h ssh-ed25519 AAAA',
      registryUsername: 'u',
      registryPassword: 'pw',
    };
    const sealed = sealSourceCredentials(box, 'acme.api', plain);
    expect(hasSealedSecrets(sealed)).toBe(true);
    expect(openSourceCredentials(box, 'acme.api', sealed)).toEqual(plain);
  });

  it('refuses credentials sealed for another component, naming the field', () => {
    const sealed = sealSourceCredentials(box, 'acme.api', { gitToken: 'ghp_s3cr3tvalue' });
    let err: unknown;
    try {
      openSourceCredentials(box, 'acme.web', sealed);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe('credentials.git_token');
    expect((err as Error).message).not.toContain('ghp_s3cr3tvalue');
  });

  it('treats empty fields as absent', () => {
    const sealed = sealSourceCredentials(box, 'acme.api', {});
    expect(hasSealedSecrets(sealed)).toBe(false);
    expect(openSourceCredentials(box, 'acme.api', sealed)).toEqual({
      gitUsername: undefined,
      gitToken: undefined,
      sshPrivateKey: undefined,
      sshKnownHosts: undefined,
      registryUsername: undefined,
      registryPassword: undefined,
    });
  });
});
