import { InvalidArgumentError } from '@wharf/errors';
import { cacheScopeOf, componentRepository, formatImageRef, parseImageRef, versionIdOf } from './image-ref';

describe('image references', () => {
  it.each([
    ['nginx', { registry: '', repository: 'nginx' }, 'nginx:latest'],
    ['nginx:1.27', { registry: '', repository: 'nginx', tag: '1.27' }, 'nginx:1.27'],
    ['127.0.0.1:5000/team/app:v1', { registry: '127.0.0.1:5000', repository: 'team/app', tag: 'v1' }, '127.0.0.1:5000/team/app:v1'],
    ['localhost/app', { registry: 'localhost', repository: 'app' }, 'localhost/app:latest'],
    [
      `reg.example.com/a/b@sha256:${'a'.repeat(64)}`,
      { registry: 'reg.example.com', repository: 'a/b', digest: `sha256:${'a'.repeat(64)}` },
      `reg.example.com/a/b@sha256:${'a'.repeat(64)}`,
    ],
  ])('parses %s', (text, parsed, formatted) => {
    const ref = parseImageRef(text);
    expect(ref).toMatchObject(parsed);
    expect(formatImageRef(ref)).toBe(formatted);
  });

  it.each(['--help', '-x', 'Team/App', 'a b', 'http://reg/x', 'app:bad tag', 'app@sha256:123', 'reg:99999999/x', ''])('refuses %j', (text) => {
    expect(() => parseImageRef(text)).toThrow(InvalidArgumentError);
  });

  it('names a component repository and version from ids, deterministically', () => {
    expect(componentRepository('127.0.0.1:32500', 'Acme', 'acme.shop.api')).toBe('127.0.0.1:32500/acme/acme.shop.api');
    expect(componentRepository('r:1', 'a b', 'x__y')).toBe('r:1/a-b/x-y');
    expect(versionIdOf('evt-1')).toBe(versionIdOf('evt-1'));
    expect(versionIdOf('evt-1')).not.toBe(versionIdOf('evt-2'));
    expect(versionIdOf('evt-1')).toMatch(/^v-[0-9a-f]{16}$/);
    expect(cacheScopeOf('acme', 'acme.shop.api')).toMatch(/^[a-z0-9_-]+$/);
  });
});
