import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mirrorFor, parseDeb822Sources, parseOneLineSources, releaseSuite, stackSourcesFile, type AptSource } from '../domain/apt-sources';

export interface HostDebian {
  suite: string;
  mirror: string;
  /** deb822 sources for the stack images (the host's, for its release). */
  sourcesFile: string;
}

/** The host's apt sources (/etc/apt/sources.list.d/*.sources and *.list, /etc/apt/sources.list). */
export function readHostAptSources(etcApt = '/etc/apt'): AptSource[] {
  const sources: AptSource[] = [];
  const dir = join(etcApt, 'sources.list.d');
  const names = existsSync(dir) ? readdirSync(dir).sort() : [];
  for (const name of names) {
    const text = readFileSync(join(dir, name), 'utf8');
    if (name.endsWith('.sources')) sources.push(...parseDeb822Sources(text));
    else if (name.endsWith('.list')) sources.push(...parseOneLineSources(text));
  }
  if (existsSync(join(etcApt, 'sources.list'))) sources.push(...parseOneLineSources(readFileSync(join(etcApt, 'sources.list'), 'utf8')));
  return sources;
}

/** The release and mirror the stack images are made from; throws naming what is missing. */
export function hostDebian(options: { suite?: string; mirror?: string; etcApt?: string } = {}): HostDebian {
  const sources = readHostAptSources(options.etcApt);
  const suite = options.suite ?? releaseSuite(sources);
  if (!suite) throw new Error('cannot tell the Debian release from /etc/apt sources: set WHARF_BUILDER_STACK_SUITE');
  const mirror = options.mirror ?? mirrorFor(sources, suite);
  if (!mirror) throw new Error(`no http(s) mirror for ${suite} in /etc/apt sources: set WHARF_BUILDER_DEBIAN_MIRROR`);
  const sourcesFile = sources.length ? stackSourcesFile(sources, suite) : `Types: deb\nURIs: ${mirror}\nSuites: ${suite}\nComponents: main\n`;
  return { suite, mirror, sourcesFile };
}
