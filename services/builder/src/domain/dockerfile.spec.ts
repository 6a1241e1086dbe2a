import { FailedPreconditionError } from '@wharf/errors';
import { detect, type StackName } from './detect';
import { CA_SECRET_ID, generateDockerfile } from './dockerfile';
import { repoFiles, type RepoFiles } from './repo-files';
import { parseProcfile } from './start-command';

const images = { build: 'wharf-stack/x:bookworm-1', run: 'wharf-stack/run:bookworm-1' };
const gen = (stack: StackName, files: RepoFiles) => generateDockerfile({ stack, files, images, cacheScope: 'acme-api', port: 8080 });
const lines = (text: string) => text.split('\n');
/** Index of the first line matching, failing the test when none does. */
const at = (text: string, re: RegExp) => {
  const i = lines(text).findIndex((l) => re.test(l));
  expect(i).toBeGreaterThanOrEqual(0);
  return i;
};

describe('generateDockerfile', () => {
  const node = repoFiles(['package.json', 'package-lock.json', 'server.js'], {
    'package.json': JSON.stringify({ name: 'a', scripts: { start: 'node server.js' }, dependencies: { express: '^4' } }),
  });

  it('installs Node dependencies from the lock before copying the source, with an npm cache mount and the CA secret', () => {
    const { dockerfile, start, notes } = gen('nodejs', node);
    expect(lines(dockerfile)[0]).toBe(`FROM ${images.build}`);
    expect(dockerfile).not.toMatch(/^# syntax/m);
    const copyManifests = at(dockerfile, /^COPY package\.json package-lock\.json \.\/$/);
    const install = at(dockerfile, /npm ci --omit=dev/);
    const copySource = at(dockerfile, /^COPY \. \.$/);
    expect(copyManifests).toBeLessThan(install);
    expect(install).toBeLessThan(copySource);
    expect(dockerfile).toContain('--mount=type=cache,id=wharf-acme-api-npm,target=/root/.npm');
    expect(dockerfile).toContain(`--mount=type=secret,id=${CA_SECRET_ID},target=/run/secrets/${CA_SECRET_ID}`);
    expect(dockerfile).toContain(`NPM_CONFIG_CAFILE=/run/secrets/${CA_SECRET_ID}`);
    expect(dockerfile).toContain('CMD ["npm","start"]');
    expect(dockerfile).toContain('EXPOSE 8080');
    expect(start).toBe('npm start');
    expect(notes.join('\n')).toMatch(/package\.json scripts\.start \(node server\.js\)/);
  });

  it('uses npm install without a lock and builds with dev dependencies when there is a build script', () => {
    const files = repoFiles(['package.json'], { 'package.json': JSON.stringify({ main: 'dist/main.js', scripts: { build: 'tsc' } }) });
    const { dockerfile } = gen('nodejs', files);
    expect(dockerfile).toContain('npm install --no-audit --no-fund');
    expect(dockerfile).not.toContain('--omit=dev --no-audit --no-fund\nCOPY');
    expect(at(dockerfile, /npm run build && npm prune --omit=dev/)).toBeGreaterThan(at(dockerfile, /^COPY \. \.$/));
    expect(dockerfile).toContain('CMD ["node","dist/main.js"]');
  });

  it('prefers the Procfile web line, run through a shell so $PORT expands', () => {
    const files = repoFiles(['package.json', 'Procfile'], {
      'package.json': '{"scripts":{"start":"x"}}',
      Procfile: 'worker: node w.js\nweb: node web.js --port $PORT\n',
    });
    expect(gen('nodejs', files).dockerfile).toContain('CMD ["/bin/sh","-c","exec node web.js --port $PORT"]');
  });

  it('refuses a Node app without any start command, saying what to add', () => {
    expect(() => gen('nodejs', repoFiles(['package.json'], { 'package.json': '{}' }))).toThrow(FailedPreconditionError);
    expect(() => gen('nodejs', repoFiles(['package.json'], { 'package.json': '{}' }))).toThrow(/no start command: add scripts\.start or main/);
    expect(() => gen('nodejs', repoFiles(['package.json'], { 'package.json': '{not json' }))).toThrow(/package\.json cannot be read/);
  });

  it('installs Python requirements before the source into a venv', () => {
    const { dockerfile } = gen('python', repoFiles(['requirements.txt', 'app.py'], {}));
    expect(at(dockerfile, /^COPY requirements\.txt \.\/$/)).toBeLessThan(at(dockerfile, /pip install -r requirements\.txt/));
    expect(at(dockerfile, /pip install -r requirements\.txt/)).toBeLessThan(at(dockerfile, /^COPY \. \.$/));
    expect(dockerfile).toContain('--mount=type=cache,id=wharf-acme-api-pip,target=/root/.cache/pip');
    expect(dockerfile).toContain('PIP_CERT=/run/secrets/wharf-ca');
    expect(dockerfile).toContain('CMD ["python3","app.py"]');
  });

  it('builds Go in two stages: modules first, a static binary on the run image', () => {
    const { dockerfile } = gen('go', repoFiles(['go.mod', 'main.go'], { 'go.mod': 'module x\ngo 1.19\n' }));
    expect(dockerfile).toMatch(/^FROM wharf-stack\/x:bookworm-1 AS build$/m);
    expect(at(dockerfile, /^COPY go\.mod \.\/$/)).toBeLessThan(at(dockerfile, /go mod download/));
    expect(at(dockerfile, /go mod download/)).toBeLessThan(at(dockerfile, /^COPY \. \.$/));
    expect(dockerfile).toMatch(/go build -trimpath -o \/out\/app \.$/m);
    expect(dockerfile).toMatch(/^FROM wharf-stack\/run:bookworm-1$/m);
    expect(dockerfile).toContain('CMD ["/app/app"]');
  });

  it('finds a Go main package under cmd/ and refuses ambiguity', () => {
    expect(gen('go', repoFiles(['go.mod', 'cmd/', 'cmd/server/'], { 'go.mod': 'module x' })).dockerfile).toContain(
      'go build -trimpath -o /out/app ./cmd/server',
    );
    expect(() => gen('go', repoFiles(['go.mod', 'cmd/a/', 'cmd/b/'], {}))).toThrow(/several main packages/);
  });

  it('serves PHP from public/ when the front controller is there, with composer first', () => {
    const { dockerfile } = gen('php', repoFiles(['composer.json', 'public/', 'public/index.php'], { 'composer.json': '{}' }));
    expect(at(dockerfile, /composer install --no-dev/)).toBeLessThan(at(dockerfile, /^COPY \. \.$/));
    expect(dockerfile).toContain('CMD ["/bin/sh","-c","exec php -S 0.0.0.0:${PORT} -t public"]');
  });

  it('serves a static site from its document root', () => {
    const { dockerfile } = gen('static', repoFiles(['public/', 'public/index.html'], {}));
    expect(dockerfile).toContain('COPY public/ /srv/www');
    expect(dockerfile).toContain('busybox httpd -f -v -p ${PORT} -h /srv/www');
  });

  it('packages a Maven jar on the JRE image, resolving dependencies before the source', () => {
    const { dockerfile } = gen('java-maven', repoFiles(['pom.xml', 'src/'], {}));
    expect(at(dockerfile, /dependency:resolve/)).toBeLessThan(at(dockerfile, /^COPY \. \.$/));
    expect(dockerfile).toContain('--mount=type=cache,id=wharf-acme-api-m2,target=/root/.m2');
    expect(dockerfile).toContain('java ${JAVA_OPTS:-} -jar /app/app.jar');
  });

  it('gives every detected stack a Dockerfile that starts FROM a stack image', () => {
    const samples: RepoFiles[] = [
      node,
      repoFiles(['app.py'], {}),
      repoFiles(['main.go'], {}),
      repoFiles(['pom.xml'], {}),
      repoFiles(['build.gradle'], {}),
      repoFiles(['index.php'], {}),
      repoFiles(['index.html'], {}),
    ];
    for (const files of samples) {
      const d = detect(files);
      if (d.stack === null || d.stack === 'dockerfile') throw new Error(`undetected: ${[...files.paths].join(',')}`);
      const { dockerfile, dockerignore } = gen(d.stack, files);
      expect(dockerfile).toMatch(/^FROM wharf-stack\//);
      expect(dockerignore).toContain('.git');
    }
  });
});

describe('parseProcfile', () => {
  it('reads type: command lines and keeps the first of each type', () => {
    expect(parseProcfile('web: a $PORT\nweb: b\n# x\nworker:  c  \n')).toEqual({ web: 'a $PORT', worker: 'c' });
  });
});
