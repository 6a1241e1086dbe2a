import { ConflictError, ERROR_CODES, errorOf, invalidArgument, InvalidArgumentError, isErrorCode, UnavailableError, WharfError } from './index';

describe('error vocabulary', () => {
  it('has one class per code, each a WharfError with its name', () => {
    for (const code of ERROR_CODES) {
      const err = errorOf(code, 'm');
      expect(err).toBeInstanceOf(WharfError);
      expect(err.code).toBe(code);
      expect(err.name).toMatch(/Error$/);
      expect(err.name).not.toBe('WharfError');
    }
  });

  it('keeps field, reason and retry hints', () => {
    const bad = invalidArgument('replicas', 'must be 0..100');
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect(bad.message).toBe('replicas: must be 0..100');
    expect(bad.field).toBe('replicas');
    expect(new ConflictError('stale', { reason: 'version_mismatch' }).reason).toBe('version_mismatch');
    expect(new UnavailableError('etcd is down', { retryAfterMs: 2000 }).retryAfterMs).toBe(2000);
  });

  it('recognises codes', () => {
    expect(isErrorCode('not_found')).toBe(true);
    expect(isErrorCode('NOT_FOUND')).toBe(false);
    expect(isErrorCode(5)).toBe(false);
  });
});
