import { readinessOf, type PartitionReach } from './readiness';

const open: PartitionReach = { state: 'open' };
const remote = (instance: string, reachable = true): PartitionReach => ({ state: 'remote', instance, reachable });

describe('readinessOf', () => {
  it('is ready when every partition is open here or owned by an instance that answers', () => {
    expect(readinessOf([open, remote('el-b'), open, remote('el-c')])).toEqual({ ready: true, reason: '' });
  });

  it('names the partitions that have no owner yet', () => {
    expect(readinessOf([open, { state: 'unowned' }, open, { state: 'unowned' }])).toEqual({ ready: false, reason: 'partitions 1, 3 have no owner yet' });
    expect(readinessOf([{ state: 'unowned' }, open])).toEqual({ ready: false, reason: 'partition 0 has no owner yet' });
  });

  it('names the partitions owned here that are not open yet', () => {
    expect(readinessOf([{ state: 'not-open' }, open])).toEqual({ ready: false, reason: 'partition 0 is owned here but not open yet' });
  });

  it('names the owners it cannot reach, with their partitions', () => {
    expect(readinessOf([remote('el-b', false), open, remote('el-b', false), remote('el-c', false)]).reason).toBe(
      'partitions 0, 2: owner el-b cannot be reached; partition 3: owner el-c cannot be reached',
    );
  });

  it('is not ready while coordination is down, even with every partition open', () => {
    expect(readinessOf([open, open], 'etcd is unreachable (connection refused)')).toEqual({ ready: false, reason: 'etcd is unreachable (connection refused)' });
  });

  it('gives every reason at once', () => {
    expect(readinessOf([{ state: 'unowned' }, { state: 'not-open' }, remote('el-b', false)], 'etcd is unreachable').reason).toBe(
      'etcd is unreachable; partition 0 has no owner yet; partition 1 is owned here but not open yet; partition 2: owner el-b cannot be reached',
    );
  });

  it('is not ready with no partitions at all', () => {
    expect(readinessOf([])).toEqual({ ready: false, reason: 'no partitions known yet' });
  });
});
