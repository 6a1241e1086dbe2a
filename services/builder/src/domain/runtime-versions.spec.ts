import { repoFiles } from './repo-files';
import { meets, runtimeRequests, runtimeWarnings } from './runtime-versions';

describe('runtime versions', () => {
  const pkg = (engines: string) => repoFiles(['package.json'], { 'package.json': JSON.stringify({ engines: { node: engines } }) });

  it.each([
    ['>=20', false],
    ['^18.0.0', true],
    ['18.x', true],
    ['>=14 <19', true],
    ['16 || 18', true],
    ['^20 || ^22', false],
  ])('engines.node %s against node 18.19.0 -> %s', (range, ok) => {
    const [request] = runtimeRequests('nodejs', pkg(range));
    expect(meets(request, '18.19.0')).toBe(ok);
  });

  it('reports a runtime the stack lacks, naming where it was asked', () => {
    expect(runtimeWarnings('nodejs', pkg('>=20'), '18.19.0')).toEqual([
      'package.json engines.node asks for >=20, but the nodejs stack has 18.19.0: building with 18.19.0',
    ]);
    expect(runtimeWarnings('nodejs', pkg('>=16'), '18.19.0')).toEqual([]);
  });

  it('reads .python-version, runtime.txt and requires-python', () => {
    const files = repoFiles(['.python-version', 'runtime.txt', 'pyproject.toml'], {
      '.python-version': '3.12.1\n',
      'runtime.txt': 'python-3.11.2',
      'pyproject.toml': '[project]\nname = "x"\nrequires-python = ">=3.10,<4"\n',
    });
    expect(runtimeWarnings('python', files, '3.11.2')).toEqual(['.python-version asks for 3.12.1, but the python stack has 3.11.2: building with 3.11.2']);
  });

  it('treats go.mod and Java releases as minimums', () => {
    const go = repoFiles(['go.mod'], { 'go.mod': 'module x\n\ngo 1.21\n' });
    expect(runtimeWarnings('go', go, '1.19.8')).toEqual(['go.mod go line asks for 1.21, but the go stack has 1.19.8: building with 1.19.8']);
    expect(runtimeWarnings('go', repoFiles(['go.mod'], { 'go.mod': 'module x\ngo 1.18\n' }), '1.19.8')).toEqual([]);
    const pom = repoFiles(['pom.xml'], { 'pom.xml': '<project><properties><maven.compiler.release>21</maven.compiler.release></properties></project>' });
    expect(runtimeWarnings('java-maven', pom, '17.0.13')).toHaveLength(1);
    const gradle = repoFiles(['build.gradle'], { 'build.gradle': 'java { toolchain { languageVersion = JavaLanguageVersion.of(11) } }' });
    expect(runtimeWarnings('java-gradle', gradle, '17.0.13')).toEqual([]);
  });

  it('reads composer require.php with its | and , forms', () => {
    const files = (php: string) => repoFiles(['composer.json'], { 'composer.json': JSON.stringify({ require: { php } }) });
    expect(runtimeWarnings('php', files('^8.3'), '8.2.28')).toHaveLength(1);
    expect(runtimeWarnings('php', files('^7.4|^8.0'), '8.2.28')).toEqual([]);
  });

  it('says when a request cannot be compared instead of guessing', () => {
    expect(runtimeWarnings('nodejs', pkg('lts/hydrogen'), '18.19.0')[0]).toMatch(/cannot be compared/);
  });
});
