/**
 * The machine's apt sources, read to find the Debian mirror for debootstrap and to give
 * the stack images the same sources the host uses (never a mirror name written in code).
 * Both formats: deb822 (*.sources) and one-line (sources.list).
 */
export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  signedBy?: string;
}

function field(stanza: Map<string, string>, name: string): string[] {
  return (stanza.get(name.toLowerCase()) ?? '').split(/\s+/).filter(Boolean);
}

/** deb822 stanzas (blank-line separated `Key: value` with indented continuations; # comments). */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const stanza = new Map<string, string>();
    let last: string | undefined;
    for (const line of block.split('\n')) {
      if (line.startsWith('#') || !line.trim()) continue;
      if (/^\s/.test(line) && last) {
        stanza.set(last, `${stanza.get(last)} ${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (!m) continue;
      last = m[1].toLowerCase();
      stanza.set(last, m[2].trim());
    }
    if (!stanza.size || stanza.get('enabled')?.toLowerCase() === 'no') continue;
    const source: AptSource = {
      types: field(stanza, 'Types'),
      uris: field(stanza, 'URIs'),
      suites: field(stanza, 'Suites'),
      components: field(stanza, 'Components'),
    };
    const signedBy = stanza.get('signed-by');
    if (signedBy && !signedBy.includes('\n') && signedBy.startsWith('/')) source.signedBy = signedBy;
    if (source.types.length && source.uris.length && source.suites.length) out.push(source);
  }
  return out;
}

/** `deb [signed-by=/x arch=amd64] http://host/debian bookworm main contrib` lines. */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const options = Object.fromEntries(
      (m[2] ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .map((o) => o.split('=') as [string, string]),
    );
    out.push({ types: [m[1]], uris: [m[3]], suites: [m[4]], components: m[5].split(/\s+/).filter(Boolean), signedBy: options['signed-by'] });
  }
  return out;
}

/** The distribution's release suite (e.g. "bookworm"): the first binary source's suite without a "-updates"-like suffix. */
export function releaseSuite(sources: AptSource[]): string | undefined {
  for (const s of sources) {
    if (!s.types.includes('deb')) continue;
    const suite = s.suites.find((x) => /^[a-z]+$/.test(x));
    if (suite) return suite;
  }
  return undefined;
}

/** The mirror serving the release suite itself, for debootstrap. */
export function mirrorFor(sources: AptSource[], suite: string): string | undefined {
  const s = sources.find((x) => x.types.includes('deb') && x.suites.includes(suite) && x.uris.some((u) => /^https?:\/\//.test(u)));
  return s?.uris.find((u) => /^https?:\/\//.test(u));
}

/** The binary sources of this release (its suite, -updates, -security), as a deb822 file for the stack images. */
export function stackSourcesFile(sources: AptSource[], suite: string): string {
  const stanzas: string[] = [];
  for (const s of sources) {
    if (!s.types.includes('deb')) continue;
    const suites = s.suites.filter((x) => x === suite || x.startsWith(`${suite}-`) || x.startsWith(`${suite}/`));
    const uris = s.uris.filter((u) => /^https?:\/\//.test(u));
    if (!suites.length || !uris.length) continue;
    stanzas.push(
      [
        'Types: deb',
        `URIs: ${uris.join(' ')}`,
        `Suites: ${suites.join(' ')}`,
        `Components: ${(s.components.length ? s.components : ['main']).join(' ')}`,
        // The keyring debootstrap's apt package installs; the host's own path may not exist in the image.
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      ].join('\n'),
    );
  }
  return stanzas.join('\n\n') + '\n';
}
