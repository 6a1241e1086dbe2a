import { ManualClock } from '@wharf/testing';
import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  it('refuses a sender over its rate while others go on, and refills with time', () => {
    const clock = new ManualClock();
    const r = new RateLimiter(100, 200, clock);
    expect(r.take('a', 200)).toBe(true);
    expect(r.take('a', 1)).toBe(false);
    expect(r.take('b', 150)).toBe(true);
    clock.advance(500); // +50 tokens
    expect(r.take('a', 50)).toBe(true);
    expect(r.take('a', 1)).toBe(false);
  });

  it('lets a batch larger than the burst through on a full bucket, then makes it pay', () => {
    const clock = new ManualClock();
    const r = new RateLimiter(100, 50, clock);
    expect(r.take('a', 80)).toBe(true);
    clock.advance(400); // -30 + 40 = 10 tokens
    expect(r.take('a', 20)).toBe(false);
  });
});
