import { BuildkitProgress, exitCodeOf } from './buildkit-progress';

describe('BuildKit plain progress', () => {
  it('tells cached instructions and the failing one apart', () => {
    const p = new BuildkitProgress();
    for (const line of [
      '#1 [internal] load build definition from Dockerfile',
      '#1 transferring dockerfile: 38B done',
      '#1 DONE 0.0s',
      '#5 [2/4] COPY package.json package-lock.json ./',
      '#5 CACHED',
      '#6 [3/4] RUN --mount=type=cache,id=x,target=/root/.npm npm ci',
      '#6 sha256:0123',
      '#6 CACHED',
      '#7 [4/4] COPY . .',
      '#7 DONE 0.1s',
      '#8 [5/5] RUN npm run build',
      '#8 0.512 npm ERR! missing script: build',
      '#8 ERROR: executor failed running [/bin/sh -c npm run build]: exit code: 1',
      'error: failed to solve: executor failed running [/bin/sh -c npm run build]: exit code: 1',
    ])
      p.push(line);
    expect(p.cachedInstructions()).toEqual(['[2/4] COPY package.json package-lock.json ./', '[3/4] RUN --mount=type=cache,id=x,target=/root/.npm npm ci']);
    expect(p.failedInstruction()).toMatchObject({ name: '[5/5] RUN npm run build', error: 'executor failed running [/bin/sh -c npm run build]: exit code: 1' });
    expect(exitCodeOf(p.failedInstruction()?.error)).toBe(1);
    expect(p.solveError).toMatch(/^failed to solve/);
  });
});
