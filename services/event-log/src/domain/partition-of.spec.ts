import { partitionOf } from './partition-of';

describe('partitionOf', () => {
  it('is stable and spreads ids over all partitions', () => {
    expect(partitionOf('evt-1', 16)).toBe(partitionOf('evt-1', 16));
    const seen = new Set(Array.from({ length: 1000 }, (_, i) => partitionOf(`evt-${i}`, 16)));
    expect(seen.size).toBe(16);
  });
});
