import { ConflictError } from '@wharf/errors';
import { expectedVersion } from './if-match';

describe('expectedVersion (If-Match)', () => {
  it('expects the current version without If-Match or with the current one', () => {
    expect(expectedVersion('tenant acme', 4, undefined)).toBe(4);
    expect(expectedVersion('tenant acme', 4, 4)).toBe(4);
  });

  it('refuses a stale If-Match with a version_mismatch conflict that says both versions', () => {
    let err: unknown;
    try {
      expectedVersion('component acme.shop.api', 4, 3);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ reason: 'version_mismatch', message: 'component acme.shop.api is at version 4, If-Match said 3; reload and retry' });
  });
});
