import { InvalidArgumentError } from '@wharf/errors';
import { assertBuildArgs, assertRefName, parseGitUrl, resolveRef, safeRelativePath } from './git-source';

const refused = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('git sources', () => {
  it.each([
    ['https://git.example.com/team/app.git', 'https', 'https://git.example.com/team/app.git'],
    ['git://127.0.0.1:9418/app.git', 'git', 'git://127.0.0.1:9418/app.git'],
    ['ssh://git@git.example.com:2222/team/app.git', 'ssh', 'ssh://git.example.com:2222/team/app.git'],
    ['git@github.com:team/app.git', 'ssh', 'github.com:team/app.git'],
  ])('accepts %s', (url, scheme, display) => {
    expect(parseGitUrl(url)).toMatchObject({ url, scheme, display });
  });

  it.each([
    ['--upload-pack=touch /tmp/pwned', /looks like a command-line option/],
    ['-u sh', /looks like a command-line option/],
    ['ext::sh -c touch% /tmp/pwned', /white space|remote helper/],
    ['ext::ssh', /remote helper transport/],
    ['file:///etc', /scheme file:\/\/ is not allowed/],
    ['ftp://host/x.git', /scheme ftp:\/\/ is not allowed/],
    ['/srv/git/app.git', /local path/],
    ['../app', /local path/],
    ['https://user:tok@host/x.git', /must not carry credentials/],
    ['https://host/', /names no repository/],
    ['https://host/-x/y', /starting with "-"/],
    ['', /is required/],
  ])('refuses %j', (url, why) => {
    expect(refused(() => parseGitUrl(url))).toMatch(why);
  });

  it('resolves refs: the options ref wins, commits by their hex form', () => {
    expect(resolveRef('main', '')).toEqual({ kind: 'branch', name: 'main' });
    expect(resolveRef('', '')).toEqual({ kind: 'branch', name: 'main' });
    expect(resolveRef('main', 'v1.2.0')).toEqual({ kind: 'ref', name: 'v1.2.0' });
    expect(resolveRef('main', 'ABCDEF1234567')).toEqual({ kind: 'commit', sha: 'abcdef1234567' });
  });

  it.each(['--upload-pack=x', '-b', 'a..b', 'a b', 'x.lock', 'a//b', '.hidden', 'a/.b', 'a~1', 'a^', 'a:b', 'a@{1}', 'feat\\x'])(
    'refuses the ref name %j',
    (name) => {
      expect(() => assertRefName(name, 'branch')).toThrow(InvalidArgumentError);
    },
  );

  it('keeps paths inside the repository', () => {
    expect(safeRelativePath('./services/api/', 'sub_dir')).toBe('services/api');
    expect(safeRelativePath('', 'sub_dir')).toBe('');
    expect(refused(() => safeRelativePath('../other', 'sub_dir'))).toMatch(/leaves the repository/);
    expect(refused(() => safeRelativePath('a/../../x', 'sub_dir'))).toMatch(/leaves the repository/);
    expect(refused(() => safeRelativePath('/etc', 'sub_dir'))).toMatch(/relative/);
    expect(refused(() => safeRelativePath('a/--x', 'dockerfile'))).toMatch(/starting with "-"/);
  });

  it('checks build argument names and values', () => {
    expect(() => assertBuildArgs({ NODE_VERSION: '18', _x: 'a b' })).not.toThrow();
    expect(refused(() => assertBuildArgs({ '1X': 'a' }))).toMatch(/options\.build_args\.1X/);
    expect(refused(() => assertBuildArgs({ X: 'a\nRUN evil' }))).toMatch(/one line/);
  });
});
