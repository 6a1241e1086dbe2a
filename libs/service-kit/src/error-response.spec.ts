import { ConflictError, ERROR_CODES, errorOf, invalidArgument, UnavailableError } from '@wharf/errors';
import { HTTP_STATUS, httpErrorOf } from './error-response';

describe('httpErrorOf', () => {
  it('maps every code to a 4xx or 5xx', () => {
    for (const code of ERROR_CODES) {
      const status = httpErrorOf(errorOf(code, 'm')).status;
      expect(status).toBe(HTTP_STATUS[code]);
      expect(status).toBeGreaterThanOrEqual(400);
    }
  });

  it('keeps the REST codes clients know, the field, and the finer reason', () => {
    expect(httpErrorOf(invalidArgument('replicas', 'must be 0..100'))).toEqual({
      status: 400,
      headers: {},
      body: { error: { code: 'invalid', message: 'replicas: must be 0..100', field: 'replicas' } },
    });
    expect(httpErrorOf(errorOf('permission_denied', 'no')).body.error.code).toBe('forbidden');
    expect(httpErrorOf(new ConflictError('stale', { reason: 'version_mismatch' })).body.error.code).toBe('version_mismatch');
  });

  it('answers an unavailable dependency with 503 and Retry-After in whole seconds', () => {
    const res = httpErrorOf(new UnavailableError('etcd is unreachable', { retryAfterMs: 1500 }));
    expect(res.status).toBe(503);
    expect(res.headers).toEqual({ 'Retry-After': '2' });
    expect(res.body.error).toEqual({ code: 'unavailable', message: 'etcd is unreachable' });
  });

  it('never leaks what a plain error says', () => {
    expect(httpErrorOf(new Error('password=hunter2'))).toEqual({ status: 500, headers: {}, body: { error: { code: 'internal', message: 'internal error' } } });
  });
});
