import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { headCommit } from './git.adapter';

describe('headCommit', () => {
  const sha = 'a'.repeat(40);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'wharf-git-head-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  };

  it('reads a detached HEAD (a commit or tag checkout)', () => {
    write('HEAD', `${sha}\n`);
    expect(headCommit(dir)).toBe(sha);
  });

  it("follows HEAD to the branch's loose ref, then to packed-refs", () => {
    write('HEAD', 'ref: refs/heads/main\n');
    write('packed-refs', `# pack-refs with: peeled fully-peeled sorted\n${'b'.repeat(40)} refs/heads/main\n`);
    expect(headCommit(dir)).toBe('b'.repeat(40));
    write('refs/heads/main', `${sha}\n`);
    expect(headCommit(dir)).toBe(sha);
  });

  it('answers undefined (git is asked then) for anything else', () => {
    expect(headCommit(dir)).toBeUndefined();
    write('HEAD', 'ref: refs/heads/main\n');
    expect(headCommit(dir)).toBeUndefined();
    write('refs/heads/main', 'not an object id\n');
    expect(headCommit(dir)).toBeUndefined();
    write('HEAD', 'ref: refs/heads/../../../etc/passwd\n');
    expect(headCommit(dir)).toBeUndefined();
    write('HEAD', 'ref: refs/tags/v1\n');
    expect(headCommit(dir)).toBeUndefined();
  });
});
