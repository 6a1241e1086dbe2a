import { parseComponentEndpoints } from './endpoints';

describe('parseComponentEndpoints', () => {
  it('reads app-manager proto3 JSON and keeps IP literals only', () => {
    const text = JSON.stringify({
      componentId: 'a1.api',
      ports: [{ port: 8080, protocol: 'http' }],
      endpoints: [
        { replica: 'r1', address: '172.18.0.3', versionId: 'v1' },
        { replica: 'r2', address: '172.18.0.2' },
        { replica: 'r3', address: '1.2.3.4; proxy_pass evil' },
        { replica: 'r4', address: 'fd00::2' },
      ],
      someFieldOfLater: true,
    });
    expect(parseComponentEndpoints('a1.api', text)).toEqual({
      ok: true,
      value: { componentId: 'a1.api', addresses: ['172.18.0.2', '172.18.0.3', 'fd00::2'] },
      dropped: ['1.2.3.4; proxy_pass evil'],
    });
  });

  it('refuses what is not ComponentEndpoints, or names another component', () => {
    expect(parseComponentEndpoints('a1.api', 'nope')).toMatchObject({ ok: false, reason: expect.stringMatching(/not a ComponentEndpoints JSON/) });
    expect(parseComponentEndpoints('a1.api', JSON.stringify({ componentId: 'a1.web' }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/names component a1.web/),
    });
  });
});
