import { leaseExpiry } from './claims';

describe('lease ids', () => {
  it('carry the expiry they were issued with, so the sweeper skips live leases without a read', () => {
    expect(leaseExpiry(`${(1_700_000_000_123).toString(36)}.0b6c7a2e-1f7e-4c1a-9a57-6f0f0e1f7a11`)).toBe(1_700_000_000_123);
    expect(leaseExpiry('no-expiry-here')).toBe(0); // unknown format: the record decides
  });
});
