import { ConflictError, ERROR_CODES, errorOf, InternalError, invalidArgument, NotFoundError, PermissionDeniedError, UnavailableError } from '@wharf/errors';
import { httpErrorOf } from './http-error';

describe('httpErrorOf', () => {
  it('keeps the codes clients saw before @wharf/errors', () => {
    expect(httpErrorOf(invalidArgument('replicas', 'must be 0-100'))).toEqual({
      status: 400,
      body: { error: { code: 'invalid', message: 'replicas: must be 0-100', field: 'replicas' } },
    });
    expect(httpErrorOf(new PermissionDeniedError('no'))).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(httpErrorOf(new NotFoundError('tenant x not found'))).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(httpErrorOf(new ConflictError('changed'))).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect(httpErrorOf(errorOf('already_exists', 'exists'))).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
  });

  it("answers a conflict's finer reason as its code", () => {
    for (const reason of ['version_mismatch', 'operation_running', 'no_previous_version', 'no_rollout'])
      expect(httpErrorOf(new ConflictError('x', { reason }))).toMatchObject({ status: 409, body: { error: { code: reason } } });
  });

  it('answers an unavailable dependency 503 with Retry-After in whole seconds', () => {
    expect(httpErrorOf(new UnavailableError('etcd is unavailable', { retryAfterMs: 1500 }))).toEqual({
      status: 503,
      body: { error: { code: 'unavailable', message: 'etcd is unavailable' } },
      retryAfterS: 2,
    });
    expect(httpErrorOf(new UnavailableError('x', { retryAfterMs: 10 })).retryAfterS).toBe(1);
  });

  it('says nothing of an internal error but that it is one', () => {
    expect(httpErrorOf(new InternalError('db password is hunter2'))).toEqual({ status: 500, body: { error: { code: 'internal', message: 'internal error' } } });
  });

  it('maps every code to a 4xx or 5xx', () => {
    for (const code of ERROR_CODES) expect(httpErrorOf(errorOf(code, 'm')).status).toBeGreaterThanOrEqual(400);
  });
});
