import { planRouteClaims } from './route-claims';

describe('planRouteClaims (what a create or update takes with its event)', () => {
  const claim = (name: string, holder: string, revision: string) => [name, { name, holder, revision }] as const;

  it('takes absent claims at revision 0 and its own at the revision read', () => {
    const held = new Map([claim('route/http a.example.com/', 'me', '40')]);
    expect(planRouteClaims('me', ['route/http a.example.com/', 'route/tcp 15000'], held, '10')).toEqual({
      claims: [
        { name: 'route/http a.example.com/', holder: 'me', expectedRevision: '40' },
        { name: 'route/tcp 15000', holder: 'me', expectedRevision: 0 },
      ],
    });
  });

  it("takes over another's claim the catalog had already seen (its holder passed the route check, so it no longer routes it)", () => {
    const held = new Map([claim('route/http a.example.com/', 'old', '30')]);
    expect(planRouteClaims('me', ['route/http a.example.com/'], held, '30')).toEqual({
      claims: [{ name: 'route/http a.example.com/', holder: 'me', expectedRevision: '30' }],
    });
  });

  it("waits for the newest position when another's claim is newer than the catalog (a racing writer the check did not see)", () => {
    const held = new Map([claim('route/http a.example.com/', 'x', '31'), claim('route/tcp 1', 'y', '35'), claim('route/tcp 2', 'me', '99')]);
    expect(planRouteClaims('me', ['route/http a.example.com/', 'route/tcp 1', 'route/tcp 2'], held, '30')).toEqual({ behind: '35' });
  });

  it('takes nothing for a component without routes', () => {
    expect(planRouteClaims('me', [], new Map(), '1')).toEqual({ claims: [] });
  });
});
