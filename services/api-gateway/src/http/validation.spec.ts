import { InvalidArgumentError, WharfError } from '@wharf/errors';
import * as S from '../domain/schemas';
import { parseBody, parseIfMatch, parseQuery } from './validation';

const refusal = (fn: () => unknown): WharfError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof WharfError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
};

describe('parseQuery', () => {
  it('refuses a parameter the route does not take, naming it and what the route takes', () => {
    const err = refusal(() => parseQuery(S.pageSchema, { limit: '5', role: 'viewer' }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err).toMatchObject({ field: 'role', message: 'role: unknown query parameter; this route takes limit, cursor, name' });
    expect(refusal(() => parseQuery(S.noQuerySchema, { limit: 'abc' }))).toMatchObject({
      field: 'limit',
      message: 'limit: unknown query parameter; this route takes none',
    });
  });

  it('names a known parameter with a bad value', () => {
    expect(refusal(() => parseQuery(S.pageSchema, { limit: 'abc' })).field).toBe('limit');
    expect(refusal(() => parseQuery(S.operationPageSchema, { kind: 'explode' })).field).toBe('kind');
  });

  it('gives the defaults and coerces numbers', () => {
    expect(parseQuery(S.pageSchema, {})).toEqual({ limit: 50 });
    expect(parseQuery(S.memberPageSchema, { limit: '2', role: 'owner' })).toEqual({ limit: 2, role: 'owner' });
    expect(parseQuery(S.noQuerySchema, undefined)).toEqual({});
  });
});

describe('parseBody of an operation', () => {
  it('takes exactly the arguments of its kind', () => {
    expect(parseBody(S.operationSchema, { kind: 'scale', replicas: 3 })).toEqual({ kind: 'scale', replicas: 3, queue: false });
    expect(parseBody(S.operationSchema, { kind: 'build', deploy_after: true })).toEqual({ kind: 'build', deploy_after: true, queue: false });
    expect(refusal(() => parseBody(S.operationSchema, { kind: 'restart', replicas: 3 }))).toMatchObject({
      field: 'body',
      message: 'body: unknown field(s): replicas',
    });
    expect(refusal(() => parseBody(S.operationSchema, { kind: 'pause', queue: true })).message).toContain('queue');
  });

  it('names the field and why', () => {
    expect(refusal(() => parseBody(S.operationSchema, { kind: 'scale' }))).toMatchObject({ field: 'replicas', message: 'replicas: is required for scale' });
    expect(refusal(() => parseBody(S.operationSchema, { kind: 'scale', replicas: 101 }))).toMatchObject({
      field: 'replicas',
      message: 'replicas: must be 0-100',
    });
    expect(refusal(() => parseBody(S.operationSchema, { kind: 'explode' }))).toMatchObject({
      field: 'kind',
      message: 'kind: must be one of build, deploy, start, stop, restart, scale, upgrade, rollback, delete, pause, resume',
    });
    expect(refusal(() => parseBody(S.operationSchema, undefined)).message).toBe('body: a JSON body is required');
  });
});

describe('parseIfMatch', () => {
  it('reads "N", W/"N" and N, and refuses anything else naming the header', () => {
    expect([parseIfMatch('"3"'), parseIfMatch('W/"3"'), parseIfMatch('3'), parseIfMatch(undefined), parseIfMatch('*')]).toEqual([
      3,
      3,
      3,
      undefined,
      undefined,
    ]);
    expect(refusal(() => parseIfMatch('garbage')).field).toBe('If-Match');
  });
});
