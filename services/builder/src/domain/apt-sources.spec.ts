import { mirrorFor, parseDeb822Sources, parseOneLineSources, releaseSuite, stackSourcesFile } from './apt-sources';

const deb822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.test/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.test/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://mirror.test/debian
Suites: bookworm

Enabled: no
Types: deb
URIs: http://disabled.test/debian
Suites: bookworm
`;

describe('apt sources', () => {
  it('reads deb822 stanzas, skipping disabled ones, and finds the release and its mirror', () => {
    const sources = parseDeb822Sources(deb822);
    expect(sources).toHaveLength(3);
    expect(releaseSuite(sources)).toBe('bookworm');
    expect(mirrorFor(sources, 'bookworm')).toBe('http://mirror.test/debian');
  });

  it('reads one-line sources with options', () => {
    const sources = parseOneLineSources(
      '# c\ndeb [arch=amd64 signed-by=/k.gpg] http://m.test/debian bookworm main contrib\ndeb-src http://m.test/debian bookworm main\n',
    );
    expect(sources[0]).toEqual({ types: ['deb'], uris: ['http://m.test/debian'], suites: ['bookworm'], components: ['main', 'contrib'], signedBy: '/k.gpg' });
    expect(mirrorFor(sources, 'bookworm')).toBe('http://m.test/debian');
  });

  it("writes the release's binary sources for the stack images", () => {
    const text = stackSourcesFile(parseDeb822Sources(deb822), 'bookworm');
    expect(text).toContain('URIs: http://mirror.test/debian\nSuites: bookworm bookworm-updates');
    expect(text).toContain('URIs: http://mirror.test/debian-security\nSuites: bookworm-security');
    expect(text).not.toContain('deb-src');
    expect(text).not.toContain('disabled.test');
  });
});
