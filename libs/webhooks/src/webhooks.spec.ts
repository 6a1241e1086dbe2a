import { createHmac } from 'node:crypto';
import { SequentialIds } from '@wharf/testing';
import fc from 'fast-check';
import { decideWebhook, deliveryIdOf, newWebhookSecret, parsePushEvent, repositoryKey, verifyGitlabToken, verifyHubSignature } from './index';

const secret = 'whsec-0123456789abcdef';
const sha = 'a'.repeat(40);
const sign = (body: Buffer | string, key = secret) => `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
const githubPush = (over: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      ref: 'refs/heads/main',
      before: '0'.repeat(40),
      after: sha,
      deleted: false,
      repository: { clone_url: 'https://github.com/acme/api.git', ssh_url: 'git@github.com:acme/api.git', html_url: 'https://github.com/acme/api' },
      ...over,
    }),
  );
const target = { secret, gitUrl: 'https://github.com/acme/api.git', branch: 'main' };

describe('signatures', () => {
  it("matches GitHub's documented example", () => {
    expect(
      verifyHubSignature("It's a Secret to Everybody", Buffer.from('Hello, World!'), 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'),
    ).toBe(true);
  });

  it('refuses a signature of another body, another secret, another form, or none', () => {
    const body = githubPush();
    expect(verifyHubSignature(secret, body, sign(body))).toBe(true);
    expect(verifyHubSignature(secret, Buffer.concat([body, Buffer.from(' ')]), sign(body))).toBe(false);
    expect(verifyHubSignature(secret, body, sign(body, 'other'))).toBe(false);
    expect(verifyHubSignature(secret, body, sign(body).replace('sha256=', 'sha1='))).toBe(false);
    expect(verifyHubSignature(secret, body, undefined)).toBe(false);
    expect(verifyHubSignature('', body, sign(body, ''))).toBe(false);
  });

  it('accepts only signatures made with the secret over the exact body', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.string({ minLength: 1 }), (bytes, other) => {
        const body = Buffer.from(bytes);
        const good = verifyHubSignature(secret, body, sign(body));
        const forged = other !== secret && verifyHubSignature(secret, body, sign(body, other));
        return good && !forged;
      }),
      { numRuns: 300 },
    );
  });

  it('compares GitLab tokens exactly', () => {
    expect(verifyGitlabToken(secret, secret)).toBe(true);
    expect(verifyGitlabToken(secret, `${secret}x`)).toBe(false);
    expect(verifyGitlabToken(secret, undefined)).toBe(false);
  });

  it('makes 256-bit secrets from the injected ids', () => {
    expect(newWebhookSecret(new SequentialIds())).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('push events', () => {
  it('reads a GitHub push', () => {
    const r = parsePushEvent('github', { 'x-github-event': 'push' }, githubPush());
    expect(r).toEqual({
      kind: 'push',
      push: {
        provider: 'github',
        ref: 'refs/heads/main',
        branch: 'main',
        commit: sha,
        deleted: false,
        repositoryUrls: ['https://github.com/acme/api.git', 'git@github.com:acme/api.git', 'https://github.com/acme/api'],
      },
    });
  });

  it('reads a GitLab push and a GitLab tag push', () => {
    const body = Buffer.from(
      JSON.stringify({
        object_kind: 'push',
        ref: 'refs/heads/dev',
        after: sha,
        checkout_sha: sha,
        project: { git_http_url: 'https://gitlab.com/acme/api.git', git_ssh_url: 'git@gitlab.com:acme/api.git' },
      }),
    );
    expect(parsePushEvent('gitlab', { 'X-Gitlab-Event': 'Push Hook' }, body)).toMatchObject({
      kind: 'push',
      push: { provider: 'gitlab', branch: 'dev', commit: sha },
    });
    const tag = Buffer.from(JSON.stringify({ ref: 'refs/tags/v1', after: sha, checkout_sha: sha }));
    expect(parsePushEvent('gitlab', { 'x-gitlab-event': 'Tag Push Hook' }, tag)).toMatchObject({ kind: 'push', push: { tag: 'v1' } });
  });

  it('ignores pings and other events, and says what is wrong with an unreadable push', () => {
    expect(parsePushEvent('github', { 'x-github-event': 'ping' }, Buffer.from('{}'))).toMatchObject({ kind: 'ignored' });
    expect(parsePushEvent('github', { 'x-github-event': 'issues' }, Buffer.from('{}'))).toMatchObject({
      kind: 'ignored',
      reason: 'issues event: only push events start builds',
    });
    expect(parsePushEvent('github', { 'x-github-event': 'push' }, Buffer.from('payload=%7B'))).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('not JSON'),
    });
    expect(parsePushEvent('github', { 'x-github-event': 'push' }, Buffer.from('{"ref":"refs/heads/main","after":"xyz"}'))).toMatchObject({ kind: 'invalid' });
  });

  it('normalises repository URLs of every form to one key', () => {
    for (const u of ['https://github.com/Acme/API.git', 'git@github.com:acme/api.git', 'ssh://git@github.com:22/acme/api', 'https://github.com/acme/api/'])
      expect(repositoryKey(u)).toBe('github.com/acme/api');
  });
});

describe('decideWebhook', () => {
  const gh = (body: Buffer, sig = sign(body)) => ({ 'x-github-event': 'push', 'x-hub-signature-256': sig, 'content-type': 'application/json' });

  it("starts a build of the pushed commit on the component's branch", () => {
    const body = githubPush();
    expect(decideWebhook(target, gh(body), body)).toMatchObject({ status: 202, action: 'build', commit: sha });
  });

  it('answers 401 and starts nothing for a bad, missing or foreign signature', () => {
    const body = githubPush();
    expect(decideWebhook(target, gh(body, sign(body, 'wrong')), body)).toMatchObject({ status: 401, action: 'reject' });
    expect(decideWebhook(target, { 'x-github-event': 'push' }, body)).toMatchObject({ status: 401, action: 'reject' });
    expect(decideWebhook(target, {}, body)).toMatchObject({ status: 401, action: 'reject' });
    expect(decideWebhook(target, { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'nope' }, body)).toMatchObject({ status: 401 });
    // Signed correctly, then altered in transit.
    expect(decideWebhook(target, gh(body), githubPush({ after: 'b'.repeat(40) }))).toMatchObject({ status: 401 });
  });

  it('ignores other branches, tags, deletions and other repositories', () => {
    const other = githubPush({ ref: 'refs/heads/feature' });
    expect(decideWebhook(target, gh(other), other)).toMatchObject({
      status: 202,
      action: 'ignore',
      reason: 'a push to branch feature, the component follows main',
    });
    const tag = githubPush({ ref: 'refs/tags/v1' });
    expect(decideWebhook(target, gh(tag), tag)).toMatchObject({ action: 'ignore' });
    const deleted = githubPush({ deleted: true, after: '0'.repeat(40) });
    expect(decideWebhook(target, gh(deleted), deleted)).toMatchObject({ action: 'ignore', reason: 'branch main was deleted' });
    const fork = githubPush({ repository: { clone_url: 'https://github.com/mallory/api.git' } });
    expect(decideWebhook(target, gh(fork), fork)).toMatchObject({ action: 'ignore', reason: expect.stringContaining('another repository') });
  });

  it('accepts a GitLab push with the right token', () => {
    const body = Buffer.from(
      JSON.stringify({ ref: 'refs/heads/main', after: sha, checkout_sha: sha, project: { git_http_url: 'https://github.com/acme/api.git' } }),
    );
    expect(decideWebhook(target, { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret }, body)).toMatchObject({
      status: 202,
      action: 'build',
      commit: sha,
    });
  });

  it('answers a signed ping 200 and starts nothing; an unsigned ping is 401 like any request', () => {
    const body = Buffer.from(JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 }));
    expect(decideWebhook(target, { 'x-github-event': 'ping', 'x-hub-signature-256': sign(body) }, body)).toEqual({
      status: 200,
      action: 'ignore',
      reason: 'ping event: the webhook is set up',
    });
    expect(decideWebhook(target, { 'x-github-event': 'ping', 'x-hub-signature-256': sign(body, 'wrong') }, body)).toMatchObject({ status: 401 });
  });

  it("carries the host's delivery id with a build, so a redelivery is recognised", () => {
    const body = githubPush();
    expect(decideWebhook(target, { ...gh(body), 'x-github-delivery': 'd-1' }, body)).toMatchObject({ action: 'build', deliveryId: 'd-1' });
    expect(decideWebhook(target, gh(body), body)).not.toHaveProperty('deliveryId');
    expect(deliveryIdOf('gitlab', { 'Idempotency-Key': 'k-1', 'X-Gitlab-Event-UUID': 'u-1' })).toBe('k-1');
    expect(deliveryIdOf('gitlab', { 'x-gitlab-event-uuid': 'u-1' })).toBe('u-1');
    expect(deliveryIdOf('github', { 'x-github-delivery': 'x'.repeat(129) })).toBeUndefined();
  });

  it('answers 400 for a signed body that is not a push it can read', () => {
    const body = Buffer.from('not json');
    expect(decideWebhook(target, gh(body), body)).toMatchObject({ status: 400, action: 'reject' });
  });
});
