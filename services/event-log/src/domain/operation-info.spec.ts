import { eventsV1 } from '@wharf/contracts';
import { operationInfo, pageOf, requestedInfo, type RequestedOperation, type StoredOperation } from './operation-info';

const { PENDING, RUNNING, SUCCESS, TIMEOUT } = eventsV1.OperationStatus;
const stored = (o: Partial<StoredOperation> = {}): StoredOperation => ({
  tenantId: 't1',
  target: 'component/c1',
  durableSeq: 3,
  firstMs: 10,
  lastMs: 20,
  ...o,
});
const requested = (o: Partial<RequestedOperation> = {}): RequestedOperation => ({
  tenantId: 't1',
  target: 'component/c1',
  requestedMs: 5,
  started: false,
  ...o,
});

describe('operationInfo', () => {
  it('is undefined for an operation nobody knows', () => {
    expect(operationInfo('op')).toBeUndefined();
  });

  it('requested, nothing reported: pending, timed from the request', () => {
    expect(operationInfo('op', undefined, requested())).toMatchObject({ status: PENDING, lastSeq: 0, firstMs: 5, lastMs: 5, tenantId: 't1' });
  });

  it('reported: running, with its last seq and times from storage', () => {
    expect(operationInfo('op', stored(), requested())).toMatchObject({ status: RUNNING, lastSeq: 3, firstMs: 10, lastMs: 20 });
    expect(operationInfo('op', stored({ durableSeq: 0 }), requested({ started: true }))?.status).toBe(RUNNING);
  });

  it('decided: the stored decision, or the feed’s when storage has none', () => {
    const final = { status: TIMEOUT, message: 'no report for 600 s', failedStep: 'deploy' } as const;
    expect(operationInfo('op', stored({ final }), requested())).toMatchObject({ status: TIMEOUT, message: 'no report for 600 s', failedStep: 'deploy' });
    expect(operationInfo('op', undefined, requested({ finished: { status: SUCCESS, message: '', failedStep: '', timeMs: 99 } }))?.status).toBe(SUCCESS);
  });

  it('a decision whose entries are not all on disk yet is not shown: running until they are', () => {
    const final = { status: SUCCESS, message: '', failedStep: '' } as const;
    expect(operationInfo('op', stored({ final, durableSeq: 3, lastSeq: 5 }))).toMatchObject({ status: RUNNING, lastSeq: 3 });
    expect(operationInfo('op', stored({ final, durableSeq: 5, lastSeq: 5 }))).toMatchObject({ status: SUCCESS, lastSeq: 5 });
  });

  it('the feed’s target and tenant win over what frames said', () => {
    expect(operationInfo('op', stored({ tenantId: 'tx', target: 'component/x' }), requested())).toMatchObject({ tenantId: 't1', target: 'component/c1' });
    expect(operationInfo('op', stored({ tenantId: 'tx' }))?.tenantId).toBe('tx');
  });
});

describe('requestedInfo', () => {
  it('shows another instance’s operation from the feed alone', () => {
    expect(requestedInfo('op', 'component/c1', requested({ finished: { status: SUCCESS, message: '', failedStep: '', timeMs: 99 } }))).toMatchObject({
      status: SUCCESS,
      lastSeq: 0,
      firstMs: 5,
      lastMs: 99,
    });
    expect(requestedInfo('op', 'component/c1').status).toBe(PENDING);
  });
});

describe('pageOf', () => {
  const ids = Array.from({ length: 7 }, (_, i) => `op-${i}`);
  it('pages with an offset cursor, the last page without one', () => {
    expect(pageOf(ids, '', 3)).toEqual({ page: ['op-0', 'op-1', 'op-2'], nextCursor: '3' });
    expect(pageOf(ids, '6', 3)).toEqual({ page: ['op-6'], nextCursor: '' });
  });
  it('defaults to 50 and caps at 500', () => {
    const many = Array.from({ length: 600 }, (_, i) => i);
    expect(pageOf(many, '', 0).page).toHaveLength(50);
    expect(pageOf(many, '', 10_000).page).toHaveLength(500);
  });
});
