import { detect } from './detect';
import { repoFiles } from './repo-files';

const d = (paths: string[], contents: Record<string, string> = {}) => detect(repoFiles(paths, contents));

describe('detect', () => {
  it.each([
    [['package.json', 'server.js'], 'nodejs', /package\.json/],
    [['pom.xml', 'src/'], 'java-maven', /pom\.xml \(Maven\)/],
    [['build.gradle.kts', 'src/'], 'java-gradle', /build\.gradle\.kts \(Gradle\)/],
    [['go.mod', 'main.go'], 'go', /go\.mod/],
    [['main.go'], 'go', /Go sources \(main\.go\) without go\.mod/],
    [['requirements.txt', 'app.py'], 'python', /requirements\.txt/],
    [['pyproject.toml'], 'python', /pyproject\.toml/],
    [['app.py'], 'python', /Python sources \(app\.py\)/],
    [['composer.json', 'index.php'], 'php', /composer\.json/],
    [['public/', 'public/index.php'], 'php', /public\/index\.php/],
    [['index.html', 'style.css'], 'static', /index\.html and no application manifest/],
    [['dist/', 'dist/index.html'], 'static', /dist\/index\.html/],
  ])('%j -> %s', (paths, stack, reason) => {
    const result = d(paths);
    expect(result.stack).toBe(stack);
    expect(result.reason).toMatch(reason);
  });

  it('lets a Dockerfile win over any language beside it', () => {
    const result = d(['Dockerfile', 'package.json', 'requirements.txt']);
    expect(result).toEqual({ stack: 'dockerfile', dockerfile: 'Dockerfile', reason: 'found Dockerfile in the build directory: it is used as is' });
  });

  it('prefers Node.js when package.json sits beside other manifests', () => {
    expect(d(['package.json', 'requirements.txt', 'go.mod']).stack).toBe('nodejs');
  });

  it('says what it looked for and what it found when nothing matches', () => {
    const result = d(['README.md', 'docs/', 'docs/intro.md', 'LICENSE']);
    expect(result.stack).toBeNull();
    expect(result.reason).toMatch(/^cannot detect the language: looked for a Dockerfile, package\.json \(Node\.js\)/);
    expect(result.reason).toContain('found LICENSE, README.md, docs/');
  });

  it("does not take a nested manifest for the build directory's own", () => {
    expect(d(['sub/', 'sub/package.json']).stack).toBeNull();
  });
});
