import { InvalidArgumentError } from '@wharf/errors';
import { SecretBox } from './secret-box';
import { hasSealedSecrets, openSourceCredentials, sealSourceCredentials } from './source-credentials';

const key = Buffer.alloc(32, 7);

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
