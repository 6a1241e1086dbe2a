/** What a push webhook said, whichever host sent it. */
export interface PushEvent {
  provider: 'github' | 'gitlab';
  /** The full ref, e.g. "refs/heads/main" or "refs/tags/v1". */
  ref: string;
  /** Set for a branch push. */
  branch?: string;
  /** Set for a tag push. */
  tag?: string;
  /** The commit the ref points at after the push (40 hex digits); "" when the ref was deleted. */
  commit: string;
  deleted: boolean;
  /** Every URL the payload gives for the repository (https, ssh, git). */
  repositoryUrls: string[];
}

export type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** A header's value, case-insensitively (Node lower-cases them; other callers may not). */
export function header(headers: Headers, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === want) return Array.isArray(v) ? v[0] : v;
  return undefined;
}

export type Provider = PushEvent['provider'];

/** Who sent the request, from its headers. */
export function providerOf(headers: Headers): Provider | undefined {
  if (header(headers, 'x-gitlab-event') !== undefined || header(headers, 'x-gitlab-token') !== undefined) return 'gitlab';
  if (header(headers, 'x-github-event') !== undefined || header(headers, 'x-hub-signature-256') !== undefined || header(headers, 'x-gitea-event') !== undefined)
    return 'github';
  return undefined;
}

/**
 * The host's id of this delivery, the same when it delivers it again (GitHub's and Gitea's
 * "Redeliver", GitLab's retries): a receiver that saw it already starts nothing new.
 * Undefined when the host sends none, or a value no host would (over 128 characters).
 */
export function deliveryIdOf(provider: Provider, headers: Headers): string | undefined {
  const names = provider === 'github' ? ['x-github-delivery', 'x-gitea-delivery'] : ['idempotency-key', 'x-gitlab-event-uuid'];
  for (const name of names) {
    const v = header(headers, name)?.trim();
    if (v && v.length <= 128) return v;
  }
  return undefined;
}

const ZERO = /^0{40}$/;
const SHA = /^[0-9a-f]{40}$/;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export type ParseResult =
  | { kind: 'push'; push: PushEvent }
  /** ping: the host's test delivery when the webhook is saved. */
  | { kind: 'ignored'; reason: string; ping?: true }
  | { kind: 'invalid'; reason: string };

/** Reads a push event out of a webhook request whose signature was already verified. */
export function parsePushEvent(provider: Provider, headers: Headers, rawBody: Buffer): ParseResult {
  const event = provider === 'github' ? (header(headers, 'x-github-event') ?? header(headers, 'x-gitea-event')) : header(headers, 'x-gitlab-event');
  if (provider === 'github' && event === 'ping') return { kind: 'ignored', reason: 'ping event: the webhook is set up', ping: true };
  if (provider === 'github' && event !== undefined && event !== 'push') return { kind: 'ignored', reason: `${event} event: only push events start builds` };
  if (provider === 'gitlab' && event !== undefined && event !== 'Push Hook' && event !== 'Tag Push Hook')
    return { kind: 'ignored', reason: `${event}: only push events start builds` };
  let payload: Record<string, unknown>;
  try {
    payload = obj(JSON.parse(rawBody.toString('utf8')));
  } catch {
    return { kind: 'invalid', reason: 'the body is not JSON (set the webhook content type to application/json)' };
  }
  const ref = str(payload.ref);
  if (!ref || !ref.startsWith('refs/')) return { kind: 'invalid', reason: 'the push event has no ref' };
  const after = (str(payload.after) ?? str(payload.checkout_sha) ?? '').toLowerCase();
  const deleted = payload.deleted === true || ZERO.test(after) || (provider === 'gitlab' && payload.checkout_sha === null);
  if (!deleted && !SHA.test(after)) return { kind: 'invalid', reason: 'the push event names no commit' };
  const repo = obj(payload.repository);
  const project = obj(payload.project);
  const urls = [
    repo.clone_url,
    repo.ssh_url,
    repo.git_url,
    repo.html_url,
    repo.git_http_url,
    repo.git_ssh_url,
    repo.url,
    project.git_http_url,
    project.git_ssh_url,
    project.web_url,
  ]
    .map(str)
    .filter((u): u is string => !!u);
  const push: PushEvent = { provider, ref, commit: deleted ? '' : after, deleted, repositoryUrls: [...new Set(urls)] };
  if (ref.startsWith('refs/heads/')) push.branch = ref.slice('refs/heads/'.length);
  else if (ref.startsWith('refs/tags/')) push.tag = ref.slice('refs/tags/'.length);
  return { kind: 'push', push };
}

/** "https://Git.Example.com/team/app.git", "git@git.example.com:team/app", "ssh://git@git.example.com:22/team/app.git" -> "git.example.com/team/app". */
export function repositoryKey(url: string): string | undefined {
  const text = url.trim();
  const scp = /^[^@/\s]+@([^:/\s]+):(?!\/)(.+)$/.exec(text);
  let host: string;
  let path: string;
  if (scp && !text.includes('://')) [host, path] = [scp[1], scp[2]];
  else {
    try {
      const u = new URL(text);
      [host, path] = [u.hostname, u.pathname];
    } catch {
      return undefined;
    }
  }
  const clean = path
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  return clean ? `${host.toLowerCase()}/${clean.toLowerCase()}` : undefined;
}
